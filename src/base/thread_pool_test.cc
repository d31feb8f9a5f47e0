#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>

namespace stowage {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskAndReportsErrors) {
  ThreadPool pool(3);
  std::atomic<int> sum{0};
  std::vector<Future<void>> futures;
  for (int i = 1; i <= 100; ++i) {
    futures.push_back(pool.Submit([&sum, i]() -> Status {
      sum += i;
      if (i == 57) return DataLossError("task 57 failed");
      return OkStatus();
    }));
  }
  Status all = WaitAll(futures);
  EXPECT_EQ(sum.load(), 5050);
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().message(), "task 57 failed");
}

TEST(ThreadPoolTest, DestructorDrainsQueuedTasks) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    for (int i = 0; i < 50; ++i) pool.Schedule([&ran] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(FutureTest, AbandonedPromiseResolvesWithInternalError) {
  Future<void> future = [] {
    Promise<void> promise;
    return promise.future();
  }();
  ASSERT_TRUE(future.ready());
  EXPECT_EQ(future.Wait().error().code(), ErrorCode::kInternal);
}

TEST(FutureTest, ReadyFutureCarriesValue) {
  auto future = Future<int>::Ready(42);
  EXPECT_TRUE(future.ready());
  EXPECT_EQ(*future.Wait(), 42);
}

}  // namespace
}  // namespace stowage

namespace stowage {
namespace {

TEST(FutureTest, WhenAllReportsFirstErrorInOrderAfterAllFinish) {
  Promise<void> a, b, c;
  Future<void> all = WhenAll({a.future(), b.future(), c.future()});
  c.Set(IoError("c failed"));
  b.Set(DataLossError("b failed"));
  EXPECT_FALSE(all.ready());
  a.Set(OkStatus());
  ASSERT_TRUE(all.ready());
  EXPECT_EQ(all.Wait().error().message(), "b failed");
}

TEST(FutureTest, OnReadyRunsImmediatelyWhenAlreadyReady) {
  int calls = 0;
  Future<void>::Ready(OkStatus()).OnReady([&](const Status& s) { calls += s.has_value(); });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace stowage
