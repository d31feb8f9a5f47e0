#include "array/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

namespace stowage::array_io {
namespace {

struct LoopState {
  std::function<Status(std::int64_t)> fn;
  std::int64_t count = 0;
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::optional<Error> first_error;
  int workers_left = 0;
  Promise<void> promise;

  void RunWorker() {
    for (std::int64_t i; !failed.load() && (i = next.fetch_add(1)) < count;) {
      Status status = fn(i);
      if (!status.has_value()) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = status.error();
        failed = true;
      }
    }
    std::unique_lock lock(mutex);
    if (--workers_left > 0) return;
    std::optional<Error> error = first_error;
    lock.unlock();
    promise.Set(error ? Status(*error) : OkStatus());
  }
};

}  // namespace

Future<void> ParallelFor(ThreadPool& pool, std::int64_t count,
                         std::function<Status(std::int64_t)> fn, std::size_t max_workers) {
  if (count <= 0) return Future<void>::Ready(OkStatus());
  if (ThreadPool::InWorker()) {  // nested in a pool task: waiting on the pool could deadlock
    for (std::int64_t i = 0; i < count; ++i) {
      Status status = fn(i);
      if (!status.has_value()) return Future<void>::Ready(status);
    }
    return Future<void>::Ready(OkStatus());
  }
  auto state = std::make_shared<LoopState>();
  state->fn = std::move(fn);
  state->count = count;
  std::size_t allowed = std::max<std::size_t>(1, std::min(max_workers, pool.size()));
  int workers = static_cast<int>(std::min<std::uint64_t>(count, allowed));
  state->workers_left = workers;
  Future<void> future = state->promise.future();
  for (int w = 0; w < workers; ++w) pool.Schedule([state] { state->RunWorker(); });
  return future;
}

}  // namespace stowage::array_io
