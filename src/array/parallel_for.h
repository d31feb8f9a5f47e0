// Runs a function over the indices [0, count) on a thread pool with at most
// pool.size() tasks in flight, stopping early at the first error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/thread_pool.h"
#include "stowage/future.h"

namespace stowage::array_io {

// Calls `fn(i)` for every i in [0, count) from at most `max_workers` (and
// pool.size()) pool workers at once and returns a future of the first error
// (or OK). `fn` must be safe to call concurrently. Called from a pool
// worker (a loop nested in a pool task), it runs the loop inline instead
// and returns a ready future.
Future<void> ParallelFor(ThreadPool& pool, std::int64_t count,
                         std::function<Status(std::int64_t)> fn,
                         std::size_t max_workers = SIZE_MAX);

}  // namespace stowage::array_io
