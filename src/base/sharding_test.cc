#include "stowage/sharding.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace stowage {
namespace {

TEST(ShardingTest, SplitsLikeJaxWithTheLastPartSmaller) {
  ASSERT_OK_AND_ASSIGN(auto sharding,
                       Sharding::Named({1000, 300}, {{3}, {"x"}}, {{0}, std::nullopt}));
  ASSERT_EQ(sharding.process_count(), 3);
  EXPECT_EQ(sharding.BoxOf(0), (Box{{0, 0}, {334, 300}}));
  EXPECT_EQ(sharding.BoxOf(1), (Box{{334, 0}, {334, 300}}));
  EXPECT_EQ(sharding.BoxOf(2), (Box{{668, 0}, {332, 300}}));
  EXPECT_EQ(sharding.ShardShape(), (Shape{334, 300}));
  for (int p = 0; p < 3; ++p) EXPECT_EQ(sharding.ReplicaIdOf(p), 0);
}

TEST(ShardingTest, AMeshAxisNoArrayAxisUsesHoldsReplicas) {
  // Mesh 2 x 3, rows over "x", replicated over "y": processes (x, y) row-major.
  ASSERT_OK_AND_ASSIGN(auto sharding,
                       Sharding::Named({10, 4}, {{2, 3}, {"x", "y"}}, {{0}, std::nullopt}));
  for (int p = 0; p < 6; ++p) {
    EXPECT_EQ(sharding.BoxOf(p).origin[0], p < 3 ? 0 : 5) << p;
    EXPECT_EQ(sharding.ReplicaIdOf(p), p % 3) << p;
  }
  EXPECT_EQ(sharding.OrbaxShardingJson(),
            R"({"sharding_type": "NamedSharding", "shape": [2, 3], "axis_names": ["x", "y"], )"
            R"("axis_types": ["AxisType.Auto", "AxisType.Auto"], "partition_spec": ["x", null], )"
            R"("device_mesh": {"mesh": [[{"id": 0}, {"id": 1}, {"id": 2}], )"
            R"([{"id": 3}, {"id": 4}, {"id": 5}]]}})");
}

// orbax-format.md §3 example: int32 arange(16) over a 1-D mesh of 8, P('x').
TEST(ShardingTest, OrbaxJsonOfAOneDimensionalMesh) {
  ASSERT_OK_AND_ASSIGN(auto sharding, Sharding::Named({16}, ProcessMesh::Balanced(8, 1), {{0}}));
  EXPECT_EQ(sharding.ShardShape(), (Shape{2}));
  EXPECT_EQ(sharding.OrbaxShardingJson(),
            R"({"sharding_type": "NamedSharding", "shape": [8], "axis_names": ["x"], )"
            R"("axis_types": ["AxisType.Auto"], "partition_spec": ["x"], "device_mesh": )"
            R"({"mesh": [{"id": 0}, {"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}, )"
            R"({"id": 6}, {"id": 7}]}})");
}

TEST(ShardingTest, BalancedMeshesAreAsSquareAsPossible) {
  EXPECT_EQ(ProcessMesh::Balanced(4, 2).shape, (std::vector<int>{2, 2}));
  EXPECT_EQ(ProcessMesh::Balanced(6, 2).shape, (std::vector<int>{3, 2}));
  EXPECT_EQ(ProcessMesh::Balanced(3, 2).shape, (std::vector<int>{3, 1}));
  EXPECT_EQ(ProcessMesh::Balanced(12, 3).shape, (std::vector<int>{3, 2, 2}));
}

TEST(ShardingTest, ReplicatedShardingGivesEveryoneTheWholeArray) {
  Sharding sharding = Sharding::Replicated({7, 5}, 3);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(sharding.BoxOf(p), (Box{{0, 0}, {7, 5}}));
    EXPECT_EQ(sharding.ReplicaIdOf(p), p);
  }
}

TEST(ShardingTest, RefusesBadSpecsAndBoxes) {
  EXPECT_ERROR_CODE(Sharding::Named({4, 4}, {{2}, {"x"}}, {{0}}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(Sharding::Named({4, 4}, {{2}, {"x"}}, {{0}, {0}}),
                    ErrorCode::kInvalidArgument);  // mesh axis used twice
  EXPECT_ERROR_CODE(Sharding::Named({4}, {{2}, {"x"}}, {{1}}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(Sharding::FromBoxes({4}, {{{0}, {3}}, {{2}, {2}}}),
                    ErrorCode::kInvalidArgument);  // overlap
  EXPECT_ERROR_CODE(Sharding::FromBoxes({4}, {{{0}, {2}}}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(Sharding::FromBoxes({4}, {{{3}, {2}}}), ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto boxes, Sharding::FromBoxes({4}, {{{0}, {1}}, {{1}, {3}}, {{0}, {1}}}));
  EXPECT_EQ(boxes.ReplicaIdOf(2), 1);
  EXPECT_EQ(boxes.OrbaxShardingJson(), "");
}

TEST(ShardedArrayTest, FromLocalChecksTheShape) {
  ASSERT_OK_AND_ASSIGN(auto sharding, Sharding::Named({6}, {{2}, {"x"}}, {{0}}));
  EXPECT_ERROR_CODE(ShardedArray::FromLocal(sharding, 1, Array::Zeros(DType::kInt32, {2}).value()),
                    ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(
      auto local, ShardedArray::FromLocal(sharding, 1, Array::Zeros(DType::kInt32, {3}).value()));
  EXPECT_EQ(local.shards.at(0).box, (Box{{3}, {3}}));
  EXPECT_EQ(local.global_shape, (Shape{6}));
}

}  // namespace
}  // namespace stowage
