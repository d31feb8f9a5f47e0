// Runs a function over the indices [0, n) on a few threads started for the
// call, for work that waits (on the disk, or on the thread pool) rather than
// computes. The caller's thread is one of them.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace stowage {

// Calls fn(i) once for every i in [0, n) from up to `threads` threads (the
// caller's and threads of their own, not pool workers, so `fn` may wait on
// the thread pool) and returns when all calls have returned.
template <typename Fn>
void RunOnThreads(std::size_t n, std::size_t threads, const Fn& fn) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::jthread> helpers;
  for (std::size_t t = 1; t < std::min(threads, n); ++t) helpers.emplace_back(work);
  work();
}

}  // namespace stowage
