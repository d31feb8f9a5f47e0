// Every case of the orbax-compat fixture: the frozen checkpoints Orbax's own
// compatibility tests read (shared/fixtures/orbax-compat/PROVENANCE.md), 14
// written by the v0 API as direct checkpoints, 14 as v0 composites and 16 as
// v1 composites, complete or with files deliberately deleted or altered. The
// table below states, case by case, what stowage does with each through
// PyTreeCheckpointHandler, Checkpointer and RestoreCompositeCheckpoint: the
// exact values, or an error code and the name of what is missing. Where
// Orbax's tests load values, stowage restores them; where they raise, stowage
// fails too (each error kind below quotes Orbax's message). A case folder
// added to or removed from the fixture fails OrbaxCompatCasesTest.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "stowage/checkpointer.h"
#include "stowage/composite_checkpoint_handler.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;

// What one call does with a case: restore the expected values exactly
// (`code` unset), or fail with `code` and a message naming `names` (see
// NamesIt).
struct Outcome {
  std::optional<ErrorCode> code;
  std::string_view names;
};

constexpr Outcome kValues{};
constexpr Outcome Fails(ErrorCode code, std::string_view names) { return {code, names}; }

// A direct checkpoint (one PyTree) given to RestoreCompositeCheckpoint
// (Orbax: "no named checkpointables").
constexpr Outcome kDirect = Fails(ErrorCode::kInvalidArgument, "no named items");
// The PyTree's `_METADATA` deleted (Orbax: "Failed to interpret path as an
// Orbax PyTree").
constexpr Outcome kNoTreeMetadata = Fails(ErrorCode::kNotFound, "_METADATA");
// The PyTree's root `manifest.ocdbt` or `d/` deleted (Orbax: TensorStore's
// "Error opening ... driver").
constexpr Outcome kNoStateManifest = Fails(ErrorCode::kNotFound, "state/manifest.ocdbt");
constexpr Outcome kNoDirectManifest =
    Fails(ErrorCode::kNotFound, "missing_pytree_data_file_manifest.ocdbt/manifest.ocdbt");
constexpr Outcome kNoStateData = Fails(ErrorCode::kNotFound, "state/d/");
constexpr Outcome kNoDirectData = Fails(ErrorCode::kNotFound, "missing_pytree_data_dir_d/d/");
// A v1 checkpoint without `_CHECKPOINT_METADATA` (Orbax: "Could not recognize
// the checkpoint as a valid Orbax checkpoint").
constexpr Outcome kNoV1CheckpointMetadata = Fails(ErrorCode::kNotFound, "_CHECKPOINT_METADATA");
// v1 `dummy_checkpointable_added`: `dummy/_METADATA` holds the bytes "dummy".
constexpr Outcome kBadDummy = Fails(ErrorCode::kDataLoss, "dummy/_METADATA");
// v1 `deleted_checkpointable`: the whole `state/` item is gone.
constexpr Outcome kNoState = Fails(ErrorCode::kNotFound, "deleted_checkpointable/state");

constexpr std::string_view kV0Direct = "v0_checkpoints/direct_checkpoint";
constexpr std::string_view kV0Composite = "v0_checkpoints/composite_checkpoint";
constexpr std::string_view kV1Composite = "v1_checkpoints/composite_checkpoint";

struct CompatCase {
  std::string_view family;  // one of the three above
  std::string_view name;    // "<group>/<case>" below the family
  // PyTreeCheckpointHandler().Restore and Checkpointer<PyTreeCheckpointHandler>
  // ::Restore of the PyTree: the case folder (direct) or `<case>/state`.
  Outcome tree;
  // RestoreCompositeCheckpoint(case folder) for every item, {"state"},
  // {"metadata"} and {"state", "metadata"}.
  Outcome all;
  Outcome state;
  Outcome json;
  Outcome state_and_json;
};

// Each row: family, case, then the outcomes of tree, all, state, json and
// state_and_json (see CompatCase).
// clang-format off
constexpr std::array<CompatCase, 44> kCases = {{
    // v0 direct (StandardCheckpointer): a PyTree in the case folder itself.
    {kV0Direct, "checkpoint_metadata_missing/pytree_checkpointable_has_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "checkpoint_metadata_missing/pytree_checkpointable_missing_metadata",
     kNoTreeMetadata, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "checkpoint_metadata_present/pytree_checkpointable_has_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "checkpoint_metadata_present/pytree_checkpointable_missing_metadata",
     kNoTreeMetadata, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "critical_metadata_alterations/missing_pytree_data_dir_d",
     kNoDirectData, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "critical_metadata_alterations/missing_pytree_data_file_manifest.ocdbt",
     kNoDirectManifest, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_commit_timestamp_nsecs_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_custom_metadata_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_init_timestamp_nsecs_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_item_handlers_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_metrics_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_performance_metrics_metadata",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_pytree_data_dir_array_metadatas",
     kValues, kDirect, kDirect, kDirect, kDirect},
    {kV0Direct, "non_critical_metadata_alterations/missing_pytree_data_file__sharding",
     kValues, kDirect, kDirect, kDirect, kDirect},

    // v0 composite (Checkpointer(CompositeCheckpointHandler())): state/ and
    // metadata/metadata; without _CHECKPOINT_METADATA the items are
    // recognised from their files.
    {kV0Composite, "checkpoint_metadata_missing/pytree_checkpointable_has_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "checkpoint_metadata_missing/pytree_checkpointable_missing_metadata",
     kNoTreeMetadata, kNoTreeMetadata, kNoTreeMetadata, kValues, kNoTreeMetadata},
    {kV0Composite, "checkpoint_metadata_present/pytree_checkpointable_has_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "checkpoint_metadata_present/pytree_checkpointable_missing_metadata",
     kNoTreeMetadata, kNoTreeMetadata, kNoTreeMetadata, kValues, kNoTreeMetadata},
    {kV0Composite, "critical_metadata_alterations/missing_pytree_data_dir_d",
     kNoStateData, kNoStateData, kNoStateData, kValues, kNoStateData},
    {kV0Composite, "critical_metadata_alterations/missing_pytree_data_file_manifest.ocdbt",
     kNoStateManifest, kNoStateManifest, kNoStateManifest, kValues, kNoStateManifest},
    {kV0Composite, "non_critical_metadata_alterations/missing_commit_timestamp_nsecs_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_custom_metadata_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_init_timestamp_nsecs_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_item_handlers_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_metrics_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_performance_metrics_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_pytree_data_dir_array_metadatas",
     kValues, kValues, kValues, kValues, kValues},
    {kV0Composite, "non_critical_metadata_alterations/missing_pytree_data_file__sharding",
     kValues, kValues, kValues, kValues, kValues},

    // v1 composite (ocp.save_checkpointables): state/, metadata/data.json,
    // the marker orbax.checkpoint, and a `descriptor` item whose folder is
    // absent; the v1 layout requires _CHECKPOINT_METADATA.
    {kV1Composite, "checkpoint_metadata_missing/pytree_checkpointable_has_metadata",
     kValues, kNoV1CheckpointMetadata, kNoV1CheckpointMetadata,
     kNoV1CheckpointMetadata, kNoV1CheckpointMetadata},
    {kV1Composite, "checkpoint_metadata_missing/pytree_checkpointable_missing_metadata",
     kNoTreeMetadata, kNoV1CheckpointMetadata, kNoV1CheckpointMetadata,
     kNoV1CheckpointMetadata, kNoV1CheckpointMetadata},
    {kV1Composite, "checkpoint_metadata_present/pytree_checkpointable_has_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "checkpoint_metadata_present/pytree_checkpointable_missing_metadata",
     kNoTreeMetadata, kNoTreeMetadata, kNoTreeMetadata, kValues, kNoTreeMetadata},
    {kV1Composite, "critical_general_alterations/dummy_checkpointable_added",
     kValues, kBadDummy, kValues, kValues, kValues},
    {kV1Composite, "critical_metadata_alterations/missing_pytree_data_dir_d",
     kNoStateData, kNoStateData, kNoStateData, kValues, kNoStateData},
    {kV1Composite, "critical_metadata_alterations/missing_pytree_data_file_manifest.ocdbt",
     kNoStateManifest, kNoStateManifest, kNoStateManifest, kValues, kNoStateManifest},
    {kV1Composite, "non_critical_general_alterations/deleted_checkpointable",
     kNoState, kNoState, kNoState, kValues, kNoState},
    {kV1Composite, "non_critical_metadata_alterations/missing_commit_timestamp_nsecs_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_custom_metadata_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_init_timestamp_nsecs_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_item_handlers_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_metrics_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_performance_metrics_metadata",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_pytree_data_dir_array_metadatas",
     kValues, kValues, kValues, kValues, kValues},
    {kV1Composite, "non_critical_metadata_alterations/missing_pytree_data_file__sharding",
     kValues, kValues, kValues, kValues, kValues},
}};
// clang-format on

constexpr std::size_t kCaseCount = kCases.size();

constexpr bool EveryRowFilled() {
  for (const CompatCase& c : kCases) {
    if (c.family.empty() || c.name.empty()) return false;
  }
  return true;
}
static_assert(EveryRowFilled(), "kCases holds fewer rows than its size");

std::string RelativePath(const CompatCase& c) {
  return std::string(c.family) + "/" + std::string(c.name);
}

void PrintTo(const CompatCase& c, std::ostream* os) { *os << RelativePath(c); }

// Checks the shape, dtype and values of an int32 leaf.
void ExpectInt32Leaf(const Tree* node, const Shape& shape, const std::vector<std::int32_t>& want) {
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->is_leaf());
  const Array* array = std::get_if<Array>(&node->leaf());
  ASSERT_NE(array, nullptr);
  ASSERT_EQ(array->dtype(), DType::kInt32);
  EXPECT_EQ(array->shape(), shape);
  auto values = array->values<std::int32_t>();
  EXPECT_EQ(std::vector<std::int32_t>(values.begin(), values.end()), want);
}

// The saved PyTree: {a: int32 [0..7], b: {c: int32 [1, 2, 3]}}, nothing else.
void ExpectState(const Tree& state) {
  ASSERT_TRUE(state.is_map());
  EXPECT_EQ(state.map().size(), 2u);
  ExpectInt32Leaf(state.Find("a"), {8}, {0, 1, 2, 3, 4, 5, 6, 7});
  const Tree* b = state.Find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->is_map());
  EXPECT_EQ(b->map().size(), 1u);
  ExpectInt32Leaf(b->Find("c"), {3}, {1, 2, 3});
}

// Items `names` (sorted), each with its saved value.
void ExpectItems(const std::map<std::string, CompositeItem>& items,
                 const std::vector<std::string>& names) {
  std::vector<std::string> restored;
  for (const auto& [name, item] : items) restored.push_back(name);
  EXPECT_EQ(restored, names);
  if (items.count("state")) {
    const Tree* state = std::get_if<Tree>(&items.at("state"));
    ASSERT_NE(state, nullptr) << "state is not a tree";
    ExpectState(*state);
  }
  if (items.count("metadata")) {
    const auto* json = std::get_if<nlohmann::ordered_json>(&items.at("metadata"));
    ASSERT_NE(json, nullptr) << "metadata is not JSON";
    EXPECT_EQ(*json, nlohmann::ordered_json({{"metadata", "json_data"}}));
  }
}

// True when `message` holds `name` as a token of its own: not preceded by a
// letter, digit or '_' (so "_METADATA" is not found in "_CHECKPOINT_METADATA",
// nor "d/" in "missing_pytree_data_dir_d/").
bool NamesIt(std::string_view message, std::string_view name) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (auto at = message.find(name); at != std::string_view::npos;
       at = message.find(name, at + 1)) {
    if (at == 0 || !is_word(message[at - 1])) return true;
  }
  return false;
}

// True when `result` holds values and `expected` asks for them; otherwise
// checks that it failed as `expected` says.
template <typename T>
bool HasValuesAsExpected(const Result<T>& result, const Outcome& expected) {
  if (!expected.code) {
    EXPECT_TRUE(result.has_value()) << result.error().ToString();
    return result.has_value();
  }
  if (result.has_value()) {
    ADD_FAILURE() << "expected " << ErrorCodeName(*expected.code) << " naming \"" << expected.names
                  << "\", got values";
    return false;
  }
  EXPECT_EQ(result.error().code(), *expected.code) << result.error().ToString();
  EXPECT_TRUE(NamesIt(result.error().message(), expected.names))
      << "\"" << expected.names << "\" not named in: " << result.error().ToString();
  return false;
}

class OrbaxCompatTest : public ::testing::TestWithParam<CompatCase> {
 protected:
  void SetUp() override {
    auto root = testing::FixturePath("orbax-compat");
    if (!root) GTEST_SKIP() << "fixtures absent";
    dir_ = *root / RelativePath(GetParam());
    ASSERT_TRUE(fs::is_directory(dir_)) << dir_ << " is not in the fixture";
  }

  // Where the PyTree is: the case folder (direct) or its state/.
  fs::path TreeDir() const { return GetParam().family == kV0Direct ? dir_ : dir_ / "state"; }

  void ExpectComposite(const std::vector<std::string>& request, const Outcome& expected) {
    auto items = RestoreCompositeCheckpoint(dir_, {request});
    if (!HasValuesAsExpected(items, expected)) return;
    ExpectItems(*items, request.empty() ? std::vector<std::string>{"metadata", "state"}
                                        : std::vector<std::string>(request));
  }

  fs::path dir_;
};

TEST_P(OrbaxCompatTest, PyTreeCheckpointHandlerRestore) {
  auto tree = PyTreeCheckpointHandler().Restore(TreeDir());
  if (HasValuesAsExpected(tree, GetParam().tree)) ExpectState(*tree);
}

TEST_P(OrbaxCompatTest, CheckpointerRestore) {
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler()};
  auto tree = checkpointer.Restore(TreeDir());
  if (HasValuesAsExpected(tree, GetParam().tree)) ExpectState(*tree);
}

TEST_P(OrbaxCompatTest, CompositeRestoreOfEveryItem) { ExpectComposite({}, GetParam().all); }

TEST_P(OrbaxCompatTest, CompositeRestoreOfState) { ExpectComposite({"state"}, GetParam().state); }

TEST_P(OrbaxCompatTest, CompositeRestoreOfJsonMetadata) {
  ExpectComposite({"metadata"}, GetParam().json);
}

TEST_P(OrbaxCompatTest, CompositeRestoreOfStateAndJsonMetadata) {
  ExpectComposite({"metadata", "state"}, GetParam().state_and_json);
}

std::string CaseTestName(const ::testing::TestParamInfo<CompatCase>& info) {
  std::string name = RelativePath(info.param);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllCases, OrbaxCompatTest, ::testing::ValuesIn(kCases), CaseTestName);

// The table covers exactly the case folders on disk
// (<v0|v1>_checkpoints/<family>/<group>/<case>): 14 + 14 + 16.
TEST(OrbaxCompatCasesTest, TableListsEveryCaseFolder) {
  auto root = testing::FixturePath("orbax-compat");
  if (!root) GTEST_SKIP() << "fixtures absent";
  std::set<std::string> on_disk;
  for (auto it = fs::recursive_directory_iterator(*root); it != fs::end(it); ++it) {
    if (!it->is_directory() || it.depth() < 3) continue;
    on_disk.insert(fs::relative(it->path(), *root).generic_string());
    it.disable_recursion_pending();
  }
  std::set<std::string> in_table;
  for (const CompatCase& c : kCases) in_table.insert(RelativePath(c));
  EXPECT_EQ(in_table.size(), kCaseCount) << "a case is listed twice";
  EXPECT_EQ(on_disk.size(), kCaseCount);
  EXPECT_EQ(on_disk, in_table);
  std::map<std::string_view, int> per_family;
  for (const CompatCase& c : kCases) ++per_family[c.family];
  EXPECT_EQ(per_family[kV0Direct], 14);
  EXPECT_EQ(per_family[kV0Composite], 14);
  EXPECT_EQ(per_family[kV1Composite], 16);
}

}  // namespace
}  // namespace stowage
