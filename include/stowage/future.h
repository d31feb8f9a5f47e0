// stowage layer: base
//
// A small future/promise pair carrying a Result<T>. A Future is a shared,
// copyable handle on a value that a Promise sets once; waiting returns the
// Result, so an error set by background work is never dropped silently.
// Thread safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "stowage/error.h"

namespace stowage {

namespace internal {
template <typename T>
struct FutureState {
  std::mutex mutex;
  std::condition_variable ready_cv;
  std::optional<Result<T>> result;
  std::vector<std::function<void(const Result<T>&)>> callbacks;
};
}  // namespace internal

template <typename T>
class Promise;

template <typename T>
class Future {
 public:
  // A future that is already ready with `result`.
  static Future Ready(Result<T> result) {
    Future f(std::make_shared<internal::FutureState<T>>());
    f.state_->result.emplace(std::move(result));
    return f;
  }

  // True once the value (or error) is set.
  bool ready() const {
    std::lock_guard lock(state_->mutex);
    return state_->result.has_value();
  }

  // Blocks until ready; returns a copy of the Result.
  Result<T> Wait() const {
    std::unique_lock lock(state_->mutex);
    state_->ready_cv.wait(lock, [&] { return state_->result.has_value(); });
    return *state_->result;
  }

  // Runs `callback(result)` once the future is ready: at once in this thread
  // if it already is, else in the thread that sets the value. Callbacks must
  // be short and must not wait on other futures.
  void OnReady(std::function<void(const Result<T>&)> callback) const {
    std::unique_lock lock(state_->mutex);
    if (!state_->result.has_value()) {
      state_->callbacks.push_back(std::move(callback));
      return;
    }
    lock.unlock();
    callback(*state_->result);
  }

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<internal::FutureState<T>> state) : state_(std::move(state)) {}
  std::shared_ptr<internal::FutureState<T>> state_;
};

// The writing end of a Future. Set() must be called at most once; a Promise
// destroyed without being set resolves its future with kInternal, so a
// waiter never hangs.
template <typename T>
class Promise {
 public:
  Promise() : state_(std::make_shared<internal::FutureState<T>>()) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&&) noexcept = default;
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;
  ~Promise() {
    if (state_ && !set_) Set(InternalError("promise abandoned before a result was set"));
  }

  Future<T> future() const { return Future<T>(state_); }

  void Set(Result<T> result) {
    std::vector<std::function<void(const Result<T>&)>> callbacks;
    {
      std::lock_guard lock(state_->mutex);
      if (state_->result.has_value()) return;
      state_->result.emplace(std::move(result));
      callbacks.swap(state_->callbacks);
    }
    set_ = true;
    state_->ready_cv.notify_all();
    for (auto& callback : callbacks) callback(*state_->result);
  }

 private:
  std::shared_ptr<internal::FutureState<T>> state_;
  bool set_ = false;
};

// Waits for every future; returns the first error among them (in order), or OK.
inline Status WaitAll(const std::vector<Future<void>>& futures) {
  std::optional<Error> first;
  for (const auto& f : futures) {
    const Status& s = f.Wait();
    if (!s.has_value() && !first) first = s.error();
  }
  if (first) return *first;
  return OkStatus();
}

// A future that becomes ready when all of `futures` are, with the first
// error among them (in order), or OK.
inline Future<void> WhenAll(std::vector<Future<void>> futures) {
  if (futures.empty()) return Future<void>::Ready(OkStatus());
  struct Join {
    std::mutex mutex;
    std::size_t left;
    std::vector<std::optional<Error>> errors;
    Promise<void> promise;
  };
  auto join = std::make_shared<Join>();
  join->left = futures.size();
  join->errors.resize(futures.size());
  Future<void> all = join->promise.future();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    futures[i].OnReady([join, i](const Status& status) {
      std::unique_lock lock(join->mutex);
      if (!status.has_value()) join->errors[i] = status.error();
      if (--join->left > 0) return;
      lock.unlock();
      for (auto& error : join->errors) {
        if (error) return join->promise.Set(*error);
      }
      join->promise.Set(OkStatus());
    });
  }
  return all;
}

}  // namespace stowage
