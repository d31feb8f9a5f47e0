#include "array/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testutil/testutil.h"

namespace stowage::array_io {
namespace {

// The most tasks of a ParallelFor seen running at once.
int PeakConcurrency(ThreadPool& pool, std::size_t max_workers) {
  std::atomic<int> running{0}, peak{0};
  Status status = ParallelFor(
                      pool, 16,
                      [&](std::int64_t) -> Status {
                        int now = ++running;
                        for (int seen = peak.load(); now > seen;) {
                          if (peak.compare_exchange_weak(seen, now)) break;
                        }
                        std::this_thread::sleep_for(std::chrono::milliseconds(5));
                        --running;
                        return OkStatus();
                      },
                      max_workers)
                      .Wait();
  EXPECT_TRUE(status.has_value());
  return peak.load();
}

TEST(ParallelForTest, RunsAtMostMaxWorkersAtOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(PeakConcurrency(pool, 1), 1);
  EXPECT_LE(PeakConcurrency(pool, 2), 2);
  EXPECT_GE(PeakConcurrency(pool, SIZE_MAX), 2);  // more than one without a limit
  EXPECT_LE(PeakConcurrency(pool, SIZE_MAX), 4);
}

TEST(ParallelForTest, VisitsEveryIndexOnceAndReportsTheFirstError) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> visits(100);
  ASSERT_OK(ParallelFor(pool, 100, [&](std::int64_t i) -> Status {
              ++visits[i];
              return OkStatus();
            }).Wait());
  for (auto& v : visits) EXPECT_EQ(v.load(), 1);
  Status failed = ParallelFor(pool, 50, [](std::int64_t i) -> Status {
                    return i == 7 ? DataLossError("chunk 7") : OkStatus();
                  }).Wait();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace stowage::array_io
