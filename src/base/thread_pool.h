// A fixed-size pool of worker threads running queued tasks in FIFO order.
// The only place stowage creates threads for data work.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "stowage/future.h"

namespace stowage {

class ThreadPool {
 public:
  // Starts `num_threads` workers (at least 1).
  explicit ThreadPool(std::size_t num_threads);
  // Runs every queued task, then joins the workers.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The process-wide pool, sized to the machine (hardware_concurrency).
  static ThreadPool& Default();

  std::size_t size() const { return workers_.size(); }

  // True on a worker thread of any ThreadPool. Work there must not wait for
  // other pool tasks, so nested parallel loops run inline instead.
  static bool InWorker();

  // Queues `task`. Tasks must not block waiting on other tasks of this pool.
  void Schedule(std::function<void()> task);

  // Queues `fn` (returning Status) and returns a future of its result.
  template <typename Fn>
  Future<void> Submit(Fn fn) {
    auto promise = std::make_shared<Promise<void>>();
    Future<void> future = promise->future();
    Schedule([promise, fn = std::move(fn)]() mutable { promise->Set(fn()); });
    return future;
  }

 private:
  void WorkerLoop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace stowage
