#include "stowage/coordinator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace stowage {
namespace {

using std::chrono::milliseconds;

TEST(SingleProcessCoordinatorTest, IsProcessZeroOfOne) {
  auto coordinator = SingleProcessCoordinator();
  ASSERT_NE(coordinator, nullptr);
  EXPECT_EQ(coordinator->process_index(), 0);
  EXPECT_EQ(coordinator->process_count(), 1);
}

TEST(SingleProcessCoordinatorTest, BarrierReturnsAtOnceEvenWithZeroTimeout) {
  auto coordinator = SingleProcessCoordinator();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(coordinator->Barrier("step", milliseconds(0)));
}

TEST(SingleProcessCoordinatorTest, BroadcastReturnsTheValue) {
  auto coordinator = SingleProcessCoordinator();
  const std::string big(3 << 20, 'x');
  for (const std::string& value : {std::string(), std::string("a"), big}) {
    auto got = coordinator->Broadcast("bcast", value, 0, milliseconds(0));
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(*got, value);
  }
}

TEST(SingleProcessCoordinatorTest, BroadcastRefusesARootOtherThanZero) {
  auto coordinator = SingleProcessCoordinator();
  for (int root : {-1, 1, 7}) {
    auto got = coordinator->Broadcast("meta", "v", root, milliseconds(10));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(got.error().message().find("meta"), std::string::npos) << got.error().message();
  }
  EXPECT_TRUE(coordinator->Barrier("still usable", milliseconds(0)));
}

TEST(SingleProcessCoordinatorTest, AllGatherReturnsTheOneValue) {
  auto coordinator = SingleProcessCoordinator();
  auto got = coordinator->AllGather("gather", "mine", milliseconds(0));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, std::vector<std::string>{"mine"});
  auto empty = coordinator->AllGather("gather", "", milliseconds(0));
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, std::vector<std::string>{""});
}

}  // namespace
}  // namespace stowage
