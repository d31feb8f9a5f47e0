#include "checkpoint/checkpoint_metadata.h"

#include <gtest/gtest.h>

#include <string>

#include "testutil/testutil.h"

namespace stowage::checkpoint {
namespace {

TEST(CheckpointMetadataTest, ReEncodesWhatItParses) {
  std::string text =
      R"({"item_handlers": "h", "metrics": {"loss": 0.5}, "performance_metrics": {}, )"
      R"("init_timestamp_nsecs": 1, "commit_timestamp_nsecs": 2, "custom_metadata": {"a": [1]}})";
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ParseCheckpointMetadata(text, "_CHECKPOINT_METADATA"));
  EXPECT_EQ(EncodeCheckpointMetadata(m), text);
  EXPECT_ERROR_CODE(ParseCheckpointMetadata("[1]", "_CHECKPOINT_METADATA"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(ParseCheckpointMetadata(R"({"init_timestamp_nsecs": "x"})", "m"),
                    ErrorCode::kDataLoss);
}

// Issue 7 (fuzzing): a `_CHECKPOINT_METADATA` nested 200000 levels deep
// overflowed the stack when its custom_metadata was copied.
TEST(CheckpointMetadataTest, DeeplyNestedJsonIsDataLossNotAStackOverflow) {
  std::string text =
      R"({"custom_metadata":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  auto parsed = ParseCheckpointMetadata(text, "step_1/_CHECKPOINT_METADATA");
  EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
  EXPECT_NE(parsed.error().message().find("step_1/_CHECKPOINT_METADATA"), std::string::npos);
}

}  // namespace
}  // namespace stowage::checkpoint
