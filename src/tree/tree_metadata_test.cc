#include "tree/tree_metadata.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "testutil/testutil.h"

namespace stowage::tree {
namespace {

constexpr char kCompatCase[] =
    "orbax-compat/v0_checkpoints/direct_checkpoint/checkpoint_metadata_present/"
    "pytree_checkpointable_has_metadata/_METADATA";

// Orbax's StandardCheckpointer wrote this file for {'a': int32[8], 'b': {'c': int32[3]}}
// (shared/fixtures/orbax-compat/PROVENANCE.md). Building the same metadata must give
// the same bytes: json.dumps formatting, tuple-repr keys, member order as in
// orbax _src/metadata/tree.py (InternalTreeMetadata.to_json).
TEST(TreeMetadataTest, EncodesExactlyWhatOrbaxWrote) {
  auto path = testing::FixturePath(kCompatCase);
  if (!path) GTEST_SKIP() << "fixture absent";
  TreeMetadata metadata;
  metadata.entries.push_back(
      {{{"a", KeyType::kDict}}, {std::string(kJaxArrayTypestr), false, Shape{8}}});
  metadata.entries.push_back({{{"b", KeyType::kDict}, {"c", KeyType::kDict}},
                              {std::string(kJaxArrayTypestr), false, Shape{3}}});
  metadata.use_ocdbt = true;
  metadata.use_zarr3 = false;
  metadata.store_array_data_equal_to_fill_value = true;
  EXPECT_EQ(EncodeTreeMetadata(metadata), testing::ReadFileOrDie(*path));
}

TEST(TreeMetadataTest, ParsesOrbaxFileAndReencodesIdentically) {
  auto path = testing::FixturePath(kCompatCase);
  if (!path) GTEST_SKIP() << "fixture absent";
  std::string text = testing::ReadFileOrDie(*path);
  ASSERT_OK_AND_ASSIGN(TreeMetadata parsed, ParseTreeMetadata(AsBytes(text), path->string()));
  ASSERT_EQ(parsed.entries.size(), 2u);
  EXPECT_EQ(ParamName(parsed.entries[1].keypath), "b.c");
  EXPECT_EQ(parsed.entries[1].value.write_shape, Shape{3});
  EXPECT_EQ(parsed.use_ocdbt, true);
  EXPECT_EQ(EncodeTreeMetadata(parsed), text);
}

// The 2024 form (no use_ocdbt, no store_array_data_equal_to_fill_value).
TEST(TreeMetadataTest, OldFormReadsWithOrbaxDefaults) {
  auto path = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_some.checkpoint/"
      "_METADATA");
  if (!path) GTEST_SKIP() << "fixture absent";
  std::string text = testing::ReadFileOrDie(*path);
  ASSERT_OK_AND_ASSIGN(TreeMetadata parsed, ParseTreeMetadata(AsBytes(text), path->string()));
  EXPECT_EQ(parsed.entries.size(), 4u);
  EXPECT_FALSE(parsed.use_ocdbt.has_value());
  EXPECT_FALSE(parsed.store_array_data_equal_to_fill_value.has_value());
  const TreeMetadataEntry* ca = parsed.Find({"c", "a"});
  ASSERT_NE(ca, nullptr);
  EXPECT_TRUE(ca->value.skip_deserialize);
  EXPECT_EQ(ca->value.value_type, kNumpyTypestr);
}

TEST(TreeMetadataTest, ArrayHandlerFormMatchesOrbaxLayout) {
  // orbax-format.md §2.3: ArrayCheckpointHandler with a numpy array.
  TreeMetadata metadata;
  metadata.entries.push_back({{{"checkpoint", KeyType::kDict}}, {"np.ndarray", false, {}}});
  metadata.use_ocdbt = false;
  metadata.store_array_data_equal_to_fill_value = true;
  EXPECT_EQ(EncodeTreeMetadata(metadata),
            R"js({"tree_metadata": {"('checkpoint',)": {"key_metadata": [{"key": "checkpoint", )js"
            R"js("key_type": 2}], "value_metadata": {"value_type": "np.ndarray", )js"
            R"js("skip_deserialize": false}}}, "use_ocdbt": false, "use_zarr3": false, )js"
            R"js("store_array_data_equal_to_fill_value": true, "custom_metadata": null})js");
}

TEST(TreeMetadataTest, MalformedFilesAreDataLoss) {
  for (
      const char* text :
      {"", "[]", "{}", R"({"tree_metadata": 3})",
       R"({"tree_metadata": {"x": {"key_metadata": []}}})",
       R"({"tree_metadata": {"x": {"key_metadata": [{"key": "a", "key_type": 9}], "value_metadata": {"value_type": "scalar"}}}})",
       R"({"tree_metadata": {}, "use_ocdbt": "yes"})"}) {
    auto parsed = ParseTreeMetadata(AsBytes(text), "/ckpt/_METADATA");
    EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
    EXPECT_NE(parsed.error().message().find("/ckpt/_METADATA"), std::string::npos);
  }
}

// Issue 7 (fuzzing): two entries naming the same leaf (under different
// member names) were both kept, so the tree had the leaf twice and the file
// re-encoded to JSON with a duplicate member.
TEST(TreeMetadataTest, TwoEntriesForOneLeafAreDataLoss) {
  const char* text = R"json({"tree_metadata": {
      "('x',)": {"key_metadata": [{"key": "name", "key_type": 2}],
                 "value_metadata": {"value_type": "string", "skip_deserialize": false}},
      "('name',)": {"key_metadata": [{"key": "name", "key_type": 2}],
                    "value_metadata": {"value_type": "string", "skip_deserialize": true}}}})json";
  auto parsed = ParseTreeMetadata(AsBytes(text), "/ckpt/_METADATA");
  EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
  EXPECT_NE(parsed.error().message().find("second entry for leaf ('name',)"), std::string::npos)
      << parsed.error().message();
}

// Issue 7 (fuzzing): a `_METADATA` nested 200000 levels deep overflowed the
// stack when its custom_metadata was copied.
TEST(TreeMetadataTest, DeeplyNestedJsonIsDataLossNotAStackOverflow) {
  std::string text = R"({"tree_metadata":{},"custom_metadata":)" + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  auto parsed = ParseTreeMetadata(AsBytes(text), "ckpt/_METADATA");
  EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
  EXPECT_NE(parsed.error().message().find("ckpt/_METADATA"), std::string::npos);
}

}  // namespace
}  // namespace stowage::tree
