#include "stowage/inspect.h"

#include <gtest/gtest.h>

#include <fstream>

#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPyTreeTypestr =
    "orbax.checkpoint._src.handlers.pytree_checkpoint_handler.PyTreeCheckpointHandler";
constexpr std::string_view kJsonTypestr =
    "orbax.checkpoint._src.handlers.json_checkpoint_handler.JsonCheckpointHandler";

// 300 three-byte characters: longer than kMaxInspectedStringBytes.
std::string LongString() {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "\xE2\x82\xAC";  // U+20AC EURO SIGN
  return text;
}

// Nested maps, a sequence holding a scalar, an empty map and an array,
// empty nodes, strings and scalars.
Tree SampleTree() {
  Tree tree;
  tree["params"]["dense"]["kernel"] =
      Array::FromValues<float>({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}).value();
  tree["params"]["dense"]["bias"] = Array::Zeros(DType::kBfloat16, {3}).value();
  tree["opt_state"].Append(Scalar::Of(std::int64_t{7}));
  tree["opt_state"].Append(Tree::EmptyMap());
  tree["opt_state"].Append(Array::Zeros(DType::kInt32, {4}).value());
  tree["step"] = Scalar::Of(std::int32_t{100});
  tree["none"] = Tree();
  tree["empty_list"] = Tree::EmptySequence();
  tree["name"] = std::string("hello");
  tree["long"] = LongString();
  return tree;
}

void SaveTree(const fs::path& dir, Tree tree, bool ocdbt = true, bool zarr3 = false) {
  PyTreeCheckpointHandlerOptions options;
  options.use_ocdbt = ocdbt;
  options.use_zarr3 = zarr3;
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
  ASSERT_OK(checkpointer.Save(dir, {std::move(tree), {}, {}}));
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::string> Keys(const TreeNodeInfo& node) {
  std::vector<std::string> keys;
  for (const auto& child : node.children) keys.push_back(child.key);
  return keys;
}

// The node at `path` (map keys or indices) below `root`; fails when absent.
const TreeNodeInfo& NodeAt(const TreeNodeInfo& root, std::vector<std::string> path) {
  const TreeNodeInfo* node = &root;
  for (const auto& key : path) {
    const TreeNodeInfo* next = nullptr;
    for (const auto& child : node->children) {
      if (child.key == key) next = &child;
    }
    EXPECT_NE(next, nullptr) << key;
    if (next == nullptr) return root;
    node = next;
  }
  return *node;
}

const LeafInfo& LeafAt(const CheckpointInfo& info, std::vector<std::string> path) {
  const TreeNodeInfo& node = NodeAt(*info.tree, std::move(path));
  EXPECT_TRUE(node.leaf.has_value());
  return info.leaves.at(node.leaf.value_or(0));
}

const ItemInfo* FindItem(const CheckpointInfo& info, std::string_view name) {
  for (const auto& item : info.items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

void ExpectSampleTree(const CheckpointInfo& info, const std::string& storage) {
  ASSERT_TRUE(info.tree.has_value());
  EXPECT_FALSE(info.is_composite);
  EXPECT_EQ(info.tree_source, "_METADATA");
  EXPECT_EQ(info.leaves.size(), 10u);
  EXPECT_EQ(Keys(*info.tree), (std::vector<std::string>{"empty_list", "long", "name", "none",
                                                        "opt_state", "params", "step"}));
  const TreeNodeInfo& opt = NodeAt(*info.tree, {"opt_state"});
  EXPECT_EQ(Keys(opt), (std::vector<std::string>{"0", "1", "2"}));
  for (const auto& child : opt.children) EXPECT_TRUE(child.is_index);
  EXPECT_FALSE(opt.leaf.has_value());
  const LeafInfo& kernel = LeafAt(info, {"params", "dense", "kernel"});
  EXPECT_EQ(kernel.name, "params.dense.kernel");
  EXPECT_EQ(kernel.kind, LeafKind::kArray);
  EXPECT_EQ(kernel.dtype, DType::kFloat32);
  EXPECT_EQ(kernel.shape, (Shape{2, 3}));
  EXPECT_EQ(kernel.storage_format, storage);
  EXPECT_GT(kernel.bytes_on_disk, 0u);
  EXPECT_TRUE(kernel.problem.empty()) << kernel.problem;
  EXPECT_EQ(LeafAt(info, {"params", "dense", "bias"}).dtype, DType::kBfloat16);
  const LeafInfo& count = LeafAt(info, {"opt_state", "0"});
  EXPECT_EQ(count.value_type, "scalar");
  EXPECT_EQ(count.shape, Shape{});
  EXPECT_EQ(LeafAt(info, {"opt_state", "1"}).kind, LeafKind::kEmptyMap);
  EXPECT_EQ(LeafAt(info, {"opt_state", "2"}).shape, Shape{4});
  EXPECT_EQ(LeafAt(info, {"none"}).kind, LeafKind::kNone);
  EXPECT_EQ(LeafAt(info, {"empty_list"}).kind, LeafKind::kEmptySequence);
  for (std::string empty : {"none", "empty_list"}) {
    EXPECT_TRUE(LeafAt(info, {empty}).problem.empty()) << LeafAt(info, {empty}).problem;
  }
  const LeafInfo& name = LeafAt(info, {"name"});
  EXPECT_EQ(name.kind, LeafKind::kString);
  EXPECT_EQ(name.string_value, "hello");
  EXPECT_EQ(name.string_bytes, 5u);
  const LeafInfo& long_string = LeafAt(info, {"long"});
  EXPECT_EQ(long_string.string_bytes, 900u);
  EXPECT_EQ(long_string.string_value.size(), 255u);  // 85 whole characters
  EXPECT_EQ(long_string.string_value, LongString().substr(0, 255));
}

TEST(InspectCheckpointTest, TreeOfMapsSequencesEmptyNodesStringsAndScalars) {
  testing::TempDir tmp;
  struct Layout {
    bool ocdbt, zarr3;
    std::string storage;
  };
  for (const Layout& layout : {Layout{true, false, "zarr v2 in OCDBT"},
                               Layout{false, true, "zarr3"}, Layout{false, false, "zarr v2"}}) {
    SCOPED_TRACE(layout.storage);
    fs::path dir = tmp.path() / (std::to_string(layout.ocdbt) + std::to_string(layout.zarr3));
    SaveTree(dir, SampleTree(), layout.ocdbt, layout.zarr3);
    ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(dir));
    ExpectSampleTree(info, layout.storage);
    EXPECT_EQ(info.ocdbt.has_value(), layout.ocdbt);
  }
}

TEST(InspectCheckpointTest, JsonHasTheNestedTree) {
  testing::TempDir tmp;
  SaveTree(tmp.path() / "ck", SampleTree());
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(tmp.path() / "ck"));
  nlohmann::ordered_json json = CheckpointInfoToJson(info);
  EXPECT_NO_THROW(json.dump());  // valid UTF-8 throughout
  EXPECT_EQ(json["leaves"].size(), 10u);
  EXPECT_EQ(json["items"], nlohmann::ordered_json::array());
  const auto& tree = json["tree"];
  EXPECT_EQ(tree["node"], "dict");
  const auto& opt = tree["children"]["opt_state"];
  EXPECT_EQ(opt["node"], "list");
  ASSERT_EQ(opt["children"].size(), 3u);
  EXPECT_EQ(opt["children"][0]["value_type"], "scalar");
  EXPECT_EQ(opt["children"][1]["value"], nlohmann::ordered_json::object());
  const auto& kernel = tree["children"]["params"]["children"]["dense"]["children"]["kernel"];
  EXPECT_EQ(kernel["node"], "leaf");
  EXPECT_EQ(kernel["kind"], "array");
  EXPECT_EQ(kernel["name"], "params.dense.kernel");
  EXPECT_EQ(kernel["dtype"], "float32");
  EXPECT_EQ(kernel["shape"], nlohmann::ordered_json({2, 3}));
  EXPECT_EQ(json["leaves"][kernel["leaf"].get<std::size_t>()]["name"], "params.dense.kernel");
  EXPECT_EQ(tree["children"]["name"]["value"], "hello");
  EXPECT_EQ(tree["children"]["long"]["truncated"], true);
  EXPECT_EQ(tree["children"]["none"]["value"], nullptr);
  EXPECT_EQ(tree["children"]["empty_list"]["value"], nlohmann::ordered_json::array());
}

TEST(InspectCheckpointTest, NeverReadsChunkData) {
  testing::TempDir tmp;
  fs::path dir = tmp.path() / "ck";
  SaveTree(dir, SampleTree(), /*ocdbt=*/false);
  // Garbage in every chunk: inspect reads only metadata, so nothing changes.
  int chunks = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find_first_not_of("0123456789.") == std::string::npos) {
      WriteFile(entry.path(), "not a chunk");
      ++chunks;
    }
  }
  EXPECT_EQ(chunks, 5);
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(dir));
  ExpectSampleTree(info, "zarr v2");
}

TEST(InspectCheckpointTest, SingleArrayCheckpoint) {
  testing::TempDir tmp;
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  Array array = Array::Zeros(DType::kFloat64, {5, 2}).value();
  ASSERT_OK(checkpointer.Save(tmp.path() / "ck", {array.view(), {}}));
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(tmp.path() / "ck"));
  ASSERT_EQ(info.leaves.size(), 1u);
  EXPECT_EQ(Keys(*info.tree), std::vector<std::string>{"checkpoint"});
  EXPECT_EQ(LeafAt(info, {"checkpoint"}).shape, (Shape{5, 2}));
  EXPECT_EQ(LeafAt(info, {"checkpoint"}).zarr_dtype, "<f8");
}

TEST(InspectCheckpointTest, WithoutMetadataListsTheArraysFound) {
  testing::TempDir tmp;
  fs::path dir = tmp.path() / "ck";
  SaveTree(dir, SampleTree(), /*ocdbt=*/false);
  fs::remove(dir / "_METADATA");
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(dir));
  EXPECT_FALSE(info.has_tree_metadata);
  EXPECT_EQ(info.tree_source, "arrays found");
  EXPECT_EQ(Keys(*info.tree),
            (std::vector<std::string>{"opt_state.0", "opt_state.2", "params.dense.bias",
                                      "params.dense.kernel", "step"}));
}

// orbax-compat/PROVENANCE.md: `state` (a = arange(8) int32, b.c = [1, 2, 3])
// and `metadata` (JSON {"metadata": "json_data"}).
TEST(InspectCheckpointTest, CompositeFixtureListsItsItems) {
  auto dir = testing::FixturePath(
      "orbax-compat/v0_checkpoints/composite_checkpoint/checkpoint_metadata_present/"
      "pytree_checkpointable_has_metadata");
  if (!dir) GTEST_SKIP() << "fixtures absent";
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(*dir));
  EXPECT_TRUE(info.is_composite);
  EXPECT_EQ(info.format, "composite");
  EXPECT_TRUE(info.leaves.empty());
  EXPECT_FALSE(info.tree.has_value());
  ASSERT_EQ(info.items.size(), 2u);
  const ItemInfo& metadata = info.items[0];
  EXPECT_EQ(metadata.name, "metadata");
  EXPECT_EQ(metadata.handler, kJsonTypestr);
  EXPECT_EQ(metadata.kind, ItemKind::kJson);
  EXPECT_EQ(metadata.json_file, "metadata/metadata");
  EXPECT_EQ(metadata.json, nlohmann::ordered_json({{"metadata", "json_data"}}));
  EXPECT_EQ(metadata.preview, R"({"metadata":"json_data"})");
  const ItemInfo& state = info.items[1];
  EXPECT_EQ(state.name, "state");
  EXPECT_EQ(state.kind, ItemKind::kTree);
  ASSERT_TRUE(state.checkpoint.has_value()) << state.problem;
  const CheckpointInfo& tree = *state.checkpoint;
  EXPECT_EQ(tree.format, "OCDBT + zarr v2");
  EXPECT_EQ(Keys(*tree.tree), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(LeafAt(tree, {"a"}).shape, Shape{8});
  EXPECT_EQ(LeafAt(tree, {"a"}).value_type, "jax.Array");
  EXPECT_EQ(LeafAt(tree, {"b", "c"}).dtype, DType::kInt32);
  auto json = CheckpointInfoToJson(info);
  EXPECT_EQ(json["items"][1]["checkpoint"]["tree"]["children"]["b"]["children"]["c"]["shape"],
            nlohmann::ordered_json({3}));
  EXPECT_EQ(json["items"][0]["json"]["metadata"], "json_data");
}

// Every composite case of orbax-compat is described, the deliberately broken
// ones with a problem in their `state` item instead of an error.
TEST(InspectCheckpointTest, EveryCompositeFixture) {
  auto root = testing::FixturePath("orbax-compat");
  if (!root) GTEST_SKIP() << "fixtures absent";
  int cases = 0;
  for (const char* api : {"v0_checkpoints", "v1_checkpoints"}) {
    for (auto& entry : fs::recursive_directory_iterator(*root / api / "composite_checkpoint")) {
      fs::path dir = entry.path();
      if (!fs::exists(dir / "state" / "manifest.ocdbt") && !fs::exists(dir / "state" / "d")) {
        continue;
      }
      SCOPED_TRACE(dir.string());
      ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(dir));
      EXPECT_TRUE(info.is_composite);
      const ItemInfo* state = FindItem(info, "state");
      ASSERT_NE(state, nullptr);
      EXPECT_EQ(state->kind, ItemKind::kTree);
      if (state->checkpoint) {
        EXPECT_EQ(state->checkpoint->leaves.size(), 2u);
      } else {
        EXPECT_NE(state->problem.find("manifest.ocdbt"), std::string::npos) << state->problem;
      }
      if (const ItemInfo* metadata = FindItem(info, "metadata")) {
        EXPECT_EQ(metadata->json, nlohmann::ordered_json({{"metadata", "json_data"}}));
      }
      ++cases;
    }
  }
  EXPECT_GE(cases, 20);
}

// orbax/PROVENANCE.md #3: a CheckpointManager step (Orbax v1 API) with
// items of handlers stowage does not read.
TEST(InspectCheckpointTest, ManagedStepWithUnknownHandlers) {
  auto dir = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/experimental/v1/_src/testing/"
      "compatibility/managed_checkpoints/v1_managed/has_metrics/has_custom_metadata/0");
  if (!dir) GTEST_SKIP() << "fixtures absent";
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(*dir));
  std::vector<std::string> names;
  for (const auto& item : info.items) names.push_back(item.name);
  EXPECT_EQ(names, (std::vector<std::string>{"baz", "descriptor", "metadata", "metrics", "state"}));
  const ItemInfo& baz = *FindItem(info, "baz");
  EXPECT_EQ(baz.kind, ItemKind::kUnknown);
  EXPECT_NE(baz.handler.find("BazHandler"), std::string::npos);
  EXPECT_EQ(baz.files, 1u);
  EXPECT_EQ(baz.total_bytes, fs::file_size(*dir / "baz" / "foo.txt"));
  EXPECT_EQ(FindItem(info, "metrics")->json, nlohmann::ordered_json({{"loss", 0.5}}));
  EXPECT_EQ(FindItem(info, "metadata")->json_file, "metadata/data.json");
  const ItemInfo& state = *FindItem(info, "state");
  ASSERT_TRUE(state.checkpoint.has_value()) << state.problem;
  EXPECT_EQ(state.checkpoint->format, "OCDBT + zarr3");
  EXPECT_EQ(LeafAt(*state.checkpoint, {"b", "c"}).storage_format, "zarr3 in OCDBT");
}

// A composite assembled here: a tree item saved by PyTreeCheckpointHandler,
// a JSON item too large to parse, an item of an unknown handler, and an
// item whose directory is missing.
TEST(InspectCheckpointTest, CompositeItemsOfEveryKind) {
  testing::TempDir tmp;
  fs::path dir = tmp.path() / "step";
  SaveTree(dir / "params", SampleTree());
  std::string big = "{\"values\": [";
  for (int i = 0; i < 20000; ++i) big += std::to_string(i) + ", ";
  big += "0]}";
  WriteFile(dir / "config" / "config", big);
  WriteFile(dir / "extra" / "blob.bin", std::string(1000, 'x'));
  nlohmann::ordered_json handlers = {{"config", kJsonTypestr},
                                     {"extra", "my.module.BlobHandler"},
                                     {"gone", kPyTreeTypestr},
                                     {"params", kPyTreeTypestr}};
  WriteFile(dir / "_CHECKPOINT_METADATA",
            nlohmann::ordered_json({{"item_handlers", handlers}}).dump());
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(dir));
  ASSERT_EQ(info.items.size(), 4u);
  const ItemInfo& config = *FindItem(info, "config");
  EXPECT_EQ(config.kind, ItemKind::kJson);
  EXPECT_TRUE(config.json.is_null());
  EXPECT_EQ(config.preview.size(), kMaxInspectedPreviewBytes + 3);
  EXPECT_TRUE(config.preview.starts_with("{\"values\": [0, 1, 2"));
  EXPECT_TRUE(config.preview.ends_with("..."));
  const ItemInfo& extra = *FindItem(info, "extra");
  EXPECT_EQ(extra.kind, ItemKind::kUnknown);
  EXPECT_EQ(extra.handler, "my.module.BlobHandler");
  EXPECT_EQ(extra.total_bytes, 1000u);
  const ItemInfo& gone = *FindItem(info, "gone");
  EXPECT_NE(gone.problem.find("does not exist"), std::string::npos);
  EXPECT_FALSE(gone.checkpoint.has_value());
  const ItemInfo& params = *FindItem(info, "params");
  ASSERT_TRUE(params.checkpoint.has_value()) << params.problem;
  ExpectSampleTree(*params.checkpoint, "zarr v2 in OCDBT");
  EXPECT_NO_THROW(CheckpointInfoToJson(info).dump());
}

// orbax/PROVENANCE.md: checkpoints whose leaves sit in the legacy msgpack
// aggregate file `checkpoint`.
TEST(InspectCheckpointTest, LegacyAggregateFiles) {
  auto some = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_some.checkpoint");
  auto t5x = testing::FixturePath("orbax/google-research__t5x/t5x/testdata/tiny_orbax/1");
  if (!some || !t5x) GTEST_SKIP() << "fixtures absent";
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, InspectCheckpoint(*some));
  EXPECT_EQ(info.tree_source, "_METADATA");
  const LeafInfo& aggregated = LeafAt(info, {"c", "a"});
  EXPECT_EQ(aggregated.storage_format, "msgpack aggregate");
  EXPECT_EQ(aggregated.shape, (Shape{2, 4}));
  EXPECT_EQ(LeafAt(info, {"a"}).storage_format, "zarr v2");
  // No `_METADATA`: the tree of the aggregate file, with None and {} leaves.
  ASSERT_OK_AND_ASSIGN(CheckpointInfo legacy, InspectCheckpoint(*t5x));
  EXPECT_EQ(legacy.tree_source, "aggregate file");
  EXPECT_EQ(Keys(*legacy.tree), (std::vector<std::string>{"_optimizer", "flax_mutables",
                                                          "flax_mutables_axes", "params_axes"}));
  EXPECT_EQ(LeafAt(legacy, {"flax_mutables"}).kind, LeafKind::kNone);
  EXPECT_EQ(LeafAt(legacy, {"_optimizer", "target"}).kind, LeafKind::kEmptyMap);
  EXPECT_EQ(LeafAt(legacy, {"_optimizer", "state", "step"}).name, "_optimizer.state.step");
}

TEST(InspectCheckpointTest, MissingDirectory) {
  testing::TempDir tmp;
  EXPECT_ERROR_CODE(InspectCheckpoint(tmp.path() / "nope"), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace stowage
