// stowage's save layouts compared with what Orbax wrote for the same tree:
// the orbax-compat fixtures (orbax-compat/PROVENANCE.md) hold the tree
// {a: arange(8), b: {c: [1, 2, 3]}} (int32 jax.Arrays on cpu:0) saved by
// StandardCheckpointer (v0 direct) and as the `state` item of composites.
#include <gtest/gtest.h>

#include <fstream>

#include "stowage/checkpointer.h"
#include "stowage/composite_checkpoint_handler.h"
#include "stowage/ocdbt.h"
#include "stowage/standard_checkpoint_handler.h"
#include "testutil/compat_tree.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;
using testing::ReadFileOrDie;

constexpr char kV0Direct[] =
    "orbax-compat/v0_checkpoints/direct_checkpoint/checkpoint_metadata_present/"
    "pytree_checkpointable_has_metadata";
constexpr char kV0Composite[] =
    "orbax-compat/v0_checkpoints/composite_checkpoint/checkpoint_metadata_present/"
    "pytree_checkpointable_has_metadata";
constexpr char kV1CompositeState[] =
    "orbax-compat/v1_checkpoints/composite_checkpoint/checkpoint_metadata_present/"
    "pytree_checkpointable_has_metadata/state";

PyTreeCheckpointHandlerOptions JaxArrayOptions(bool zarr3) {
  PyTreeCheckpointHandlerOptions options;
  options.array_value_type = ArrayValueType::kJaxArray;
  options.use_zarr3 = zarr3;
  options.zstd_checksum = false;  // TensorStore's default: Orbax's zarr.json exactly
  options.fsync = kvstore::FsyncPolicy::kNone;
  return options;
}

// The value of `key` in the OCDBT database at `dir`, as text.
std::string OcdbtValue(const fs::path& dir, const std::string& key) {
  auto db = kvstore::OcdbtStore::Open(kvstore::OpenFileStore(dir));
  EXPECT_TRUE(db.has_value()) << dir;
  if (!db.has_value()) return "";
  auto value = (*db)->Read(key);
  EXPECT_TRUE(value.has_value()) << dir << " " << key;
  if (!value.has_value()) return "";
  return std::string(reinterpret_cast<const char*>(value->data()), value->size());
}

void ExpectSameFile(const fs::path& ours, const fs::path& orbax) {
  EXPECT_EQ(ReadFileOrDie(ours), ReadFileOrDie(orbax)) << ours.filename();
}

TEST(OrbaxSaveLayoutTest, JaxArrayTreeMatchesOrbaxFileForFile) {
  for (bool zarr3 : {false, true}) {
    auto orbax = testing::FixturePath(zarr3 ? kV1CompositeState : kV0Direct);
    if (!orbax) GTEST_SKIP() << "fixtures absent";
    testing::TempDir tmp;
    ASSERT_OK(PyTreeCheckpointHandler(JaxArrayOptions(zarr3))
                  .Save(tmp.path(), {testing::OrbaxCompatTree()}));
    for (const char* file : {"_METADATA", "_sharding", "array_metadatas/process_0"}) {
      ExpectSameFile(tmp.path() / file, *orbax / file);
    }
    // The arrays' metadata inside OCDBT (TensorStore wrote Orbax's).
    for (const char* key : {"a/.zarray", "b.c/.zarray", "a/zarr.json", "b.c/zarr.json"}) {
      if (std::string(key).ends_with(".zarray") == zarr3) continue;
      EXPECT_EQ(OcdbtValue(tmp.path(), key), OcdbtValue(*orbax, key)) << key;
    }
    // The same keys, in both the root database and the process database.
    EXPECT_TRUE(fs::exists(tmp.path() / "ocdbt.process_0" / "manifest.ocdbt"));
  }
}

TEST(OrbaxSaveLayoutTest, NumpyArraysWriteNoShardingOrArrayMetadatas) {
  testing::TempDir tmp;
  PyTreeCheckpointHandlerOptions options;
  options.fsync = kvstore::FsyncPolicy::kNone;
  ASSERT_OK(PyTreeCheckpointHandler(options).Save(tmp.path(), {testing::OrbaxCompatTree()}));
  EXPECT_FALSE(fs::exists(tmp.path() / "_sharding"));
  EXPECT_FALSE(fs::exists(tmp.path() / "array_metadatas"));
  std::string metadata = ReadFileOrDie(tmp.path() / "_METADATA");
  EXPECT_NE(metadata.find("\"value_type\": \"np.ndarray\", \"skip_deserialize\": false}"),
            std::string::npos)
      << metadata;
  EXPECT_EQ(metadata.find("write_shape"), std::string::npos);
}

TEST(OrbaxSaveLayoutTest, StandardCheckpointerMetadataMatchesOrbax) {
  auto orbax = testing::FixturePath(kV0Direct);
  if (!orbax) GTEST_SKIP() << "fixtures absent";
  testing::TempDir tmp;
  Checkpointer<StandardCheckpointHandler> checkpointer{
      StandardCheckpointHandler(JaxArrayOptions(false))};
  fs::path dir = tmp.path() / "ckpt";
  ASSERT_OK(checkpointer.Save(
      dir, {testing::OrbaxCompatTree()},
      {.custom_metadata = {{"custom", "meta"}}, .fsync = kvstore::FsyncPolicy::kNone}));
  auto ours = nlohmann::ordered_json::parse(ReadFileOrDie(dir / "_CHECKPOINT_METADATA"));
  auto theirs = nlohmann::ordered_json::parse(ReadFileOrDie(*orbax / "_CHECKPOINT_METADATA"));
  for (const char* field : {"item_handlers", "metrics", "performance_metrics", "custom_metadata"}) {
    EXPECT_EQ(ours[field], theirs[field]) << field;
  }
  ExpectSameFile(dir / "_METADATA", *orbax / "_METADATA");
  ASSERT_OK_AND_ASSIGN(Tree restored, checkpointer.Restore(dir));
  EXPECT_EQ(std::get<Array>(restored.Find("b")->Find("c")->leaf()).values<std::int32_t>()[2], 3);
}

TEST(OrbaxSaveLayoutTest, CompositeOfStateAndJsonMatchesOrbaxV0Layout) {
  auto orbax = testing::FixturePath(kV0Composite);
  if (!orbax) GTEST_SKIP() << "fixtures absent";
  testing::TempDir tmp;
  CompositeCheckpointHandlerOptions options;
  options.pytree = JaxArrayOptions(false);
  Checkpointer<CompositeCheckpointHandler> checkpointer{CompositeCheckpointHandler(options)};
  fs::path dir = tmp.path() / "0";
  CompositeSaveArgs args;
  args.items.emplace_back("state", PyTreeSaveArgs{testing::OrbaxCompatTree()});
  args.items.emplace_back("metadata", JsonSaveArgs{{{"metadata", "json_data"}}});
  ASSERT_OK(checkpointer.Save(dir, std::move(args), {.custom_metadata = {{"custom", "meta"}}}));
  auto ours = nlohmann::ordered_json::parse(ReadFileOrDie(dir / "_CHECKPOINT_METADATA"));
  auto theirs = nlohmann::ordered_json::parse(ReadFileOrDie(*orbax / "_CHECKPOINT_METADATA"));
  EXPECT_EQ(ours["item_handlers"].dump(), theirs["item_handlers"].dump());
  EXPECT_EQ(ours["custom_metadata"], theirs["custom_metadata"]);
  ExpectSameFile(dir / "metadata" / "metadata", *orbax / "metadata" / "metadata");
  for (const char* file : {"_METADATA", "_sharding", "array_metadatas/process_0"}) {
    ExpectSameFile(dir / "state" / file, *orbax / "state" / file);
  }
  ASSERT_OK_AND_ASSIGN(auto items, checkpointer.Restore(dir));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(std::get<nlohmann::ordered_json>(items.at("metadata")),
            nlohmann::ordered_json({{"metadata", "json_data"}}));
  const Tree& state = std::get<Tree>(items.at("state"));
  EXPECT_EQ(std::get<Array>(state.Find("a")->leaf()).values<std::int32_t>()[7], 7);
}

TEST(CompositeSaveTest, RefusesBadItemNamesBeforeWriting) {
  testing::TempDir tmp;
  CompositeCheckpointHandler handler;
  for (std::string name : {"", "a/b", "..", "_CHECKPOINT_METADATA", "x.orbax-checkpoint-tmp"}) {
    CompositeSaveArgs args;
    args.items.emplace_back(name, JsonSaveArgs{{{"k", 1}}});
    SCOPED_TRACE(name);
    EXPECT_ERROR_CODE(handler.Save(tmp.path(), std::move(args)), ErrorCode::kInvalidArgument);
  }
  CompositeSaveArgs twice;
  twice.items.emplace_back("m", JsonSaveArgs{{{"k", 1}}});
  twice.items.emplace_back("m", JsonSaveArgs{{{"k", 2}}});
  EXPECT_ERROR_CODE(handler.Save(tmp.path(), std::move(twice)), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(handler.Save(tmp.path(), {}), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(CompositeSaveTest, AFailingTreeItemFailsTheCheckpointAndLeavesNothing) {
  testing::TempDir tmp;
  Checkpointer<CompositeCheckpointHandler> checkpointer{CompositeCheckpointHandler()};
  CompositeSaveArgs args;
  args.items.emplace_back("metadata", JsonSaveArgs{{{"k", 1}}});
  args.items.emplace_back("state", PyTreeSaveArgs{Tree::EmptyMap()});  // no leaves
  auto saved = checkpointer.Save(tmp.path() / "ckpt", std::move(args));
  EXPECT_ERROR_CODE(saved, ErrorCode::kInvalidArgument);
  EXPECT_NE(saved.error().message().find("state"), std::string::npos) << saved.error().message();
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(JsonCheckpointHandlerTest, WritesPythonJsonAndReadsItBack) {
  testing::TempDir tmp;
  JsonCheckpointHandler handler("metrics");
  nlohmann::ordered_json value = {{"loss", 0.5}, {"name", "r\u00e9sum\u00e9"}, {"steps", {1, 2}}};
  ASSERT_OK(handler.Save(tmp.path(), {value}));
  EXPECT_EQ(ReadFileOrDie(tmp.path() / "metrics"),
            R"({"loss": 0.5, "name": "r\u00e9sum\u00e9", "steps": [1, 2]})");
  ASSERT_OK_AND_ASSIGN(auto restored, handler.Restore(tmp.path()));
  EXPECT_EQ(restored, value);
  EXPECT_ERROR_CODE(JsonCheckpointHandler("absent").Restore(tmp.path()), ErrorCode::kNotFound);
  std::ofstream(tmp.path() / "broken") << "{\"a\": ";
  auto broken = JsonCheckpointHandler("broken").Restore(tmp.path());
  EXPECT_ERROR_CODE(broken, ErrorCode::kDataLoss);
  EXPECT_NE(broken.error().message().find("broken"), std::string::npos);
}

}  // namespace
}  // namespace stowage
