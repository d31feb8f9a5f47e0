// stowage's OCDBT checkpoints against the ones Orbax wrote for the same tree
// (orbax-compat/PROVENANCE.md: `a` = arange(8), `b.c` = [1, 2, 3], int32):
// the same databases, keys and values (zarr v2 chunks compared decoded;
// zarr3 shards, zarr.json and .zarray byte for byte).
#include <gtest/gtest.h>

#include "checkpoint/base_pytree_handler.h"
#include "codec/zstd_compressor.h"
#include "stowage/ocdbt.h"
#include "testutil/testutil.h"

namespace stowage::checkpoint {
namespace {

namespace fs = std::filesystem;

std::vector<LeafToSave> CompatibilityTree() {
  std::vector<LeafToSave> leaves;
  leaves.push_back(
      {{{"a", tree::KeyType::kDict}},
       Array::FromValues<std::int32_t>({8}, std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7})
           .value(),
       {}});
  leaves.push_back(
      {{{"b", tree::KeyType::kDict}, {"c", tree::KeyType::kDict}},
       Array::FromValues<std::int32_t>({3}, std::vector<std::int32_t>{1, 2, 3}).value(),
       {}});
  return leaves;
}

std::map<std::string, std::string> AllValues(const fs::path& dir, const std::string& root = "") {
  auto store = kvstore::OcdbtStore::Open(kvstore::OpenFileStore(dir), root);
  EXPECT_TRUE(store.has_value());
  std::map<std::string, std::string> values;
  auto keys = (*store)->List("");
  EXPECT_TRUE(keys.has_value());
  for (const auto& key : *keys) {
    Bytes value = (*store)->Read(key).value();
    // zarr v2 chunks: TensorStore's zstd frames omit the content size that
    // stowage records for numcodecs, so compare what they decode to.
    if (key.ends_with("/0") && !key.ends_with("/c/0")) {
      value = codec::ZstdDecompressFrame(value, 1 << 20).value();
    }
    values[key] = std::string(AsStringView(value));
  }
  return values;
}

void ExpectSameDatabaseAsOrbax(bool zarr3, const char* fixture) {
  auto orbax = testing::FixturePath(fixture);
  if (!orbax) GTEST_SKIP() << "fixtures absent";
  testing::TempDir tmp;
  BasePyTreeOptions options;
  options.use_ocdbt = true;
  options.use_zarr3 = zarr3;
  options.zstd_checksum = false;  // TensorStore's default: Orbax's shards exactly
  BasePyTreeHandler handler(options);
  ASSERT_OK_AND_ASSIGN(auto futures, handler.AsyncSave(tmp.path(), CompatibilityTree(), nullptr));
  ASSERT_OK(WaitAll(futures));
  EXPECT_EQ(AllValues(tmp.path()), AllValues(*orbax));
  EXPECT_EQ(AllValues(tmp.path(), "ocdbt.process_0/"), AllValues(*orbax, "ocdbt.process_0/"));
  ASSERT_OK_AND_ASSIGN(auto metadata, handler.ReadTreeMetadata(tmp.path()));
  EXPECT_EQ(metadata.use_ocdbt, true);
  EXPECT_EQ(metadata.use_zarr3, zarr3);
}

TEST(OcdbtLayoutTest, Zarr2InOcdbtHoldsWhatOrbaxWrote) {
  ExpectSameDatabaseAsOrbax(false,
                            "orbax-compat/v0_checkpoints/direct_checkpoint/"
                            "checkpoint_metadata_present/pytree_checkpointable_has_metadata");
}

TEST(OcdbtLayoutTest, Zarr3InOcdbtHoldsWhatOrbaxWrote) {
  ExpectSameDatabaseAsOrbax(true,
                            "orbax-compat/v1_checkpoints/composite_checkpoint/"
                            "checkpoint_metadata_present/pytree_checkpointable_has_metadata/state");
}

}  // namespace
}  // namespace stowage::checkpoint
