#include "stowage/pytree_checkpoint_handler.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "stowage/checkpointer.h"
#include "testutil/testutil.h"
#include "tree/pytree.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;

Array Int32s(std::vector<std::int32_t> values) {
  Shape shape{static_cast<std::int64_t>(values.size())};
  return Array::FromValues<std::int32_t>(shape, values).value();
}

// A tree with nesting, sequences, several dtypes, a scalar and empty nodes.
Tree SampleTree() {
  Tree tree;
  tree["params"]["dense"]["kernel"] =
      Array::FromValues<float>({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}).value();
  tree["params"]["dense"]["bias"] = Array::Zeros(DType::kBfloat16, {3}).value();
  tree["opt_state"].Append(Scalar::Of(std::int64_t{7}));
  tree["opt_state"].Append(Tree::EmptyMap());
  tree["opt_state"].Append(Int32s({-1, 0, 1}));
  tree["step"] = Scalar::Of(std::int32_t{100});
  tree["none"] = Tree();
  tree["empty_list"] = Tree::EmptySequence();
  return tree;
}

const Array& ArrayAt(const Tree& tree, std::initializer_list<std::string_view> path) {
  const Tree* node = &tree;
  for (auto key : path) {
    if (node->is_sequence()) {
      node = &node->sequence().at(std::stoul(std::string(key)));
    } else {
      node = node->Find(key);
    }
    EXPECT_NE(node, nullptr) << key;
  }
  return std::get<Array>(node->leaf());
}

void ExpectSampleTree(const Tree& back) {
  Tree want = SampleTree();
  EXPECT_TRUE(BitwiseEqual(ArrayAt(back, {"params", "dense", "kernel"}).view(),
                           ArrayAt(want, {"params", "dense", "kernel"}).view()));
  EXPECT_EQ(ArrayAt(back, {"params", "dense", "bias"}).dtype(), DType::kBfloat16);
  EXPECT_TRUE(BitwiseEqual(ArrayAt(back, {"opt_state", "2"}).view(), Int32s({-1, 0, 1}).view()));
  const Tree& opt = *back.Find("opt_state");
  ASSERT_TRUE(opt.is_sequence());
  EXPECT_EQ(std::get<Scalar>(opt.sequence()[0].leaf()).As<std::int64_t>(), 7);
  EXPECT_TRUE(opt.sequence()[1].is_map());
  EXPECT_EQ(std::get<Scalar>(back.Find("step")->leaf()).As<std::int32_t>(), 100);
  EXPECT_TRUE(back.Find("none")->is_none());
  EXPECT_TRUE(back.Find("empty_list")->is_sequence());
}

TEST(PyTreeCheckpointHandlerTest, NestedTreesRoundTripInEveryLayout) {
  testing::TempDir tmp;
  for (bool ocdbt : {true, false}) {
    for (bool zarr3 : {false, true}) {
      PyTreeCheckpointHandlerOptions options;
      options.use_ocdbt = ocdbt;
      options.use_zarr3 = zarr3;
      Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
      fs::path dir = tmp.path() / (std::to_string(ocdbt) + std::to_string(zarr3));
      ASSERT_OK(checkpointer.Save(dir, {SampleTree(), {}, {{"note", "x"}}}));
      EXPECT_EQ(fs::exists(dir / "manifest.ocdbt"), ocdbt);
      EXPECT_EQ(fs::exists(dir / "params.dense.kernel"), !ocdbt);
      Checkpointer<PyTreeCheckpointHandler> reader{PyTreeCheckpointHandler()};
      ASSERT_OK_AND_ASSIGN(Tree back, reader.Restore(dir));
      ExpectSampleTree(back);
      std::string metadata = testing::ReadFileOrDie(dir / "_METADATA");
      std::string none_entry =
          R"js("('none',)": {"key_metadata": [{"key": "none", "key_type": 2}], )js"
          R"js("value_metadata": {"value_type": "None", "skip_deserialize": true}})js";
      EXPECT_NE(metadata.find(none_entry), std::string::npos) << metadata;
      EXPECT_NE(metadata.find(R"({"key": "1", "key_type": 1})"), std::string::npos);
      EXPECT_NE(metadata.find(R"("custom_metadata": {"note": "x"})"), std::string::npos);
    }
  }
}

// Leaves restore on several threads; the result and the error reported do
// not depend on which finishes first.
TEST(PyTreeCheckpointHandlerTest, ManyLeavesRestoreInParallelWithTheFirstErrorInTreeOrder) {
  testing::TempDir tmp;
  PyTreeCheckpointHandlerOptions options;
  options.use_ocdbt = false;
  options.num_threads = 4;
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
  Tree tree;
  for (int i = 0; i < 200; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "k%03d", i);
    tree[name] = Int32s({i, -i, i * i});
  }
  tree["s"] = Scalar::Of(2.5);
  fs::path dir = tmp.path() / "many";
  ASSERT_OK(checkpointer.Save(dir, {std::move(tree), {}, {}}));
  ASSERT_OK_AND_ASSIGN(Tree back, checkpointer.Restore(dir));
  for (int i = 0; i < 200; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "k%03d", i);
    EXPECT_TRUE(BitwiseEqual(ArrayAt(back, {name}).view(), Int32s({i, -i, i * i}).view()));
  }
  EXPECT_EQ(std::get<Scalar>(back.Find("s")->leaf()).As<double>(), 2.5);
  fs::remove(dir / "k150" / "0");
  fs::remove(dir / "k020" / "0");
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto failed = checkpointer.Restore(dir);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(failed.error().message().find("k020"), std::string::npos) << failed.error().message();
  }
}

// Orbax's StringHandler: `_strings.json`, compact, each string at
// "/<param name>" (orbax-format.md §3.8).
TEST(PyTreeCheckpointHandlerTest, StringLeavesGoToStringsJson) {
  testing::TempDir tmp;
  for (bool ocdbt : {true, false}) {
    PyTreeCheckpointHandlerOptions options;
    options.use_ocdbt = ocdbt;
    PyTreeCheckpointHandler handler(options);
    Tree copy;
    copy["foo"] = std::string("foo_val");
    copy["bar"] = std::string("bar_val");
    copy["nested"]["name"] = std::string("x\"y");
    copy["w"] = Int32s({1, 2});
    fs::path dir = tmp.path() / std::to_string(ocdbt);
    ASSERT_OK(handler.Save(dir, {std::move(copy), {}, nullptr}));
    EXPECT_EQ(testing::ReadFileOrDie(dir / "_strings.json"),
              R"({"bar":"bar_val","foo":"foo_val","nested.name":"x\"y"})");
    EXPECT_NE(testing::ReadFileOrDie(dir / "_METADATA").find(R"("value_type": "string")"),
              std::string::npos);
    ASSERT_OK_AND_ASSIGN(Tree back, handler.Restore(dir));
    EXPECT_EQ(std::get<std::string>(back.Find("foo")->leaf()), "foo_val");
    EXPECT_EQ(std::get<std::string>(back.Find("nested")->Find("name")->leaf()), "x\"y");
    EXPECT_TRUE(BitwiseEqual(ArrayAt(back, {"w"}).view(), Int32s({1, 2}).view()));
  }
  Tree bad;
  bad["a~b"] = std::string("v");
  EXPECT_ERROR_CODE(
      PyTreeCheckpointHandler().Save(tmp.path() / "bad", {std::move(bad), {}, nullptr}),
      ErrorCode::kInvalidArgument);
}

TEST(PyTreeCheckpointHandlerTest, PartialRestoreAndPerLeafArguments) {
  testing::TempDir tmp;
  PyTreeCheckpointHandler handler;
  PyTreeSaveArgs save{SampleTree(), {}, nullptr};
  save.save_args["params.dense.kernel"].dtype = DType::kFloat64;
  ASSERT_OK(handler.Save(tmp.path(), std::move(save)));
  PyTreeRestoreArgs args;
  args.keys = {"params", "step"};
  args.restore_args["params.dense.kernel"].dtype = DType::kFloat32;
  args.restore_args["step"].restore_type = RestoreType::kArray;
  ASSERT_OK_AND_ASSIGN(Tree back, handler.Restore(tmp.path(), args));
  ASSERT_TRUE(back.is_map());
  EXPECT_EQ(back.map().size(), 2u);
  EXPECT_EQ(back.Find("opt_state"), nullptr);
  EXPECT_EQ(ArrayAt(back, {"params", "dense", "kernel"}).dtype(), DType::kFloat32);
  EXPECT_EQ(ArrayAt(back, {"step"}).rank(), 0);
  args.keys = {"params.dense.missing"};
  auto missing = handler.Restore(tmp.path(), args);
  EXPECT_ERROR_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("params.dense.missing"), std::string::npos);
}

TEST(PyTreeCheckpointHandlerTest, TreesWithoutLeavesOrWithCollidingNamesAreRefused) {
  testing::TempDir tmp;
  PyTreeCheckpointHandler handler;
  Tree empty;
  empty["a"] = Tree::EmptyMap();
  EXPECT_ERROR_CODE(handler.Save(tmp.path() / "e", {std::move(empty), {}, nullptr}),
                    ErrorCode::kInvalidArgument);
  Tree colliding;
  colliding["a"]["b"] = Int32s({1});
  colliding["a.b"] = Int32s({2});
  EXPECT_ERROR_CODE(handler.Save(tmp.path() / "c", {std::move(colliding), {}, nullptr}),
                    ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(tmp.path() / "c" / "_METADATA"));
}

// Orbax's compatibility checkpoints (orbax-compat/PROVENANCE.md) restore as
// {a: arange(8), b: {c: [1, 2, 3]}}, int32.
TEST(PyTreeCheckpointHandlerTest, RestoresTheOrbaxCompatibilityTrees) {
  for (const char* path :
       {"orbax-compat/v0_checkpoints/direct_checkpoint/checkpoint_metadata_present/"
        "pytree_checkpointable_has_metadata",
        "orbax-compat/v1_checkpoints/composite_checkpoint/checkpoint_metadata_present/"
        "pytree_checkpointable_has_metadata/state"}) {
    auto dir = testing::FixturePath(path);
    if (!dir) GTEST_SKIP() << "fixtures absent";
    ASSERT_OK_AND_ASSIGN(Tree tree, PyTreeCheckpointHandler().Restore(*dir));
    EXPECT_TRUE(BitwiseEqual(ArrayAt(tree, {"a"}).view(), Int32s({0, 1, 2, 3, 4, 5, 6, 7}).view()));
    EXPECT_TRUE(BitwiseEqual(ArrayAt(tree, {"b", "c"}).view(), Int32s({1, 2, 3}).view()));
  }
}

// A real CheckpointManager step (orbax/PROVENANCE.md #4): 134 arrays and
// scalars, optax state as sequences, and a None leaf.
TEST(PyTreeCheckpointHandlerTest, RestoresARealTrainingStateAsOneTree) {
  auto dir = testing::FixturePath("orbax/SAR2652__Polynomial-Expansion/checkpoints/1/default");
  if (!dir) GTEST_SKIP() << "fixtures absent";
  ASSERT_OK_AND_ASSIGN(Tree tree, PyTreeCheckpointHandler().Restore(*dir));
  auto flat = tree::Flatten(tree);
  std::size_t arrays = 0, nones = 0;
  for (const auto& node : flat) {
    arrays += node.node->is_leaf() ? 1 : 0;
    nones += node.node->is_none() ? 1 : 0;
  }
  EXPECT_EQ(arrays, 134u);
  EXPECT_EQ(nones, 1u);
  ASSERT_TRUE(tree.Find("opt_state") != nullptr);
  EXPECT_TRUE(tree.Find("opt_state")->is_sequence());
}

}  // namespace
}  // namespace stowage

namespace stowage {
namespace {

std::vector<std::int64_t> Int64Values(const Tree& tree,
                                      std::initializer_list<std::string_view> path) {
  const Array& array = ArrayAt(tree, path);
  EXPECT_EQ(array.dtype(), DType::kInt64);
  auto values = array.values<std::int64_t>();
  return {values.begin(), values.end()};
}

std::vector<std::int64_t> Range(int n, int step) {
  std::vector<std::int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(i * step);
  return out;
}

// orbax/PROVENANCE.md #1-2 (orbax pytree_checkpoint_handler_test.py
// test_aggregate_all / test_aggregate_some): a = arange(8), b = arange(16)*2,
// c.a = arange(8).reshape(2, 4)*3, c.e = arange(16).reshape(4, 4)*4, int64;
// all inside the msgpack file, or a and b as zarr folders.
TEST(PyTreeCheckpointHandlerTest, RestoresLegacyAggregateCheckpoints) {
  for (const char* name : {"aggregate_all.checkpoint", "aggregate_some.checkpoint"}) {
    auto dir = testing::FixturePath(
        std::string("orbax/google__orbax/checkpoint/orbax/checkpoint/testing/") + name);
    if (!dir) GTEST_SKIP() << "fixtures absent";
    ASSERT_OK_AND_ASSIGN(Tree tree, PyTreeCheckpointHandler().Restore(*dir));
    EXPECT_EQ(Int64Values(tree, {"a"}), Range(8, 1)) << name;
    EXPECT_EQ(Int64Values(tree, {"b"}), Range(16, 2)) << name;
    EXPECT_EQ(Int64Values(tree, {"c", "a"}), Range(8, 3)) << name;
    EXPECT_EQ(ArrayAt(tree, {"c", "a"}).shape(), (Shape{2, 4}));
    EXPECT_EQ(Int64Values(tree, {"c", "e"}), Range(16, 4)) << name;
  }
}

// orbax/PROVENANCE.md #7: T5X's tiny_orbax lost its `.zarray` files upstream.
TEST(PyTreeCheckpointHandlerTest, LegacyPlaceholderWithoutItsZarrayNamesTheMissingFile) {
  auto dir = testing::FixturePath("orbax/google-research__t5x/t5x/testdata/tiny_orbax/1");
  if (!dir) GTEST_SKIP() << "fixtures absent";
  auto tree = PyTreeCheckpointHandler().Restore(*dir);
  EXPECT_ERROR_CODE(tree, ErrorCode::kNotFound);
  EXPECT_NE(tree.error().message().find(".zarray"), std::string::npos) << tree.error().ToString();
  EXPECT_NE(tree.error().message().find("_optimizer.state"), std::string::npos);
}

TEST(PyTreeCheckpointHandlerTest, NoMetadataAndNoAggregateFileIsNotFound) {
  testing::TempDir tmp;
  auto tree = PyTreeCheckpointHandler().Restore(tmp.path());
  EXPECT_ERROR_CODE(tree, ErrorCode::kNotFound);
  EXPECT_NE(tree.error().message().find("_METADATA"), std::string::npos);
}

}  // namespace
}  // namespace stowage
