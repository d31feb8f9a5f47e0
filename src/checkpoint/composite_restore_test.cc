#include <gtest/gtest.h>

#include "stowage/composite_checkpoint_handler.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;

// orbax/PROVENANCE.md #3: a CheckpointManager step with a custom item `baz`.
TEST(CompositeRestoreTest, ManagedStepItemsAndAnItemOfAnUnknownHandler) {
  auto dir = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/experimental/v1/_src/testing/"
      "compatibility/managed_checkpoints/v0_managed/has_metrics/has_custom_metadata/0");
  if (!dir) GTEST_SKIP() << "fixtures absent";
  ASSERT_OK_AND_ASSIGN(auto items, RestoreCompositeCheckpoint(*dir));
  EXPECT_EQ(items.size(), 3u);  // state, metadata, metrics; baz is skipped
  EXPECT_TRUE(std::holds_alternative<Tree>(items.at("state")));
  EXPECT_TRUE(std::get<nlohmann::ordered_json>(items.at("metrics")).is_object());
  auto baz = RestoreCompositeCheckpoint(*dir, {{"baz"}});
  EXPECT_ERROR_CODE(baz, ErrorCode::kUnsupported);
  EXPECT_NE(baz.error().message().find("DataclassCheckpointHandler"), std::string::npos);
  auto missing = RestoreCompositeCheckpoint(*dir, {{"nope"}});
  EXPECT_ERROR_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto only, RestoreCompositeCheckpoint(*dir, {{"metadata"}}));
  EXPECT_EQ(only.size(), 1u);
}

}  // namespace
}  // namespace stowage
