// A CheckpointManager root written by stowage compared with the one Orbax's
// CheckpointManager wrote for the same run (fixtures
// orbax/google__orbax/.../managed_checkpoints/v0_managed, PROVENANCE.md §3):
// step 0 with items `state` ({a: arange(8), b: {c: [1, 2, 3]}}, int32
// jax.Arrays) and `metadata` (JSON), metrics {"loss": 0.5}, step custom
// metadata {"custom": "meta"} and root metadata {"foo": "bar"}. Orbax lists
// and restores what stowage wrote only if these files match.
#include <gtest/gtest.h>

#include "stowage/checkpoint_manager.h"
#include "testutil/compat_tree.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using testing::ReadFileOrDie;

constexpr char kOrbaxRoot[] =
    "orbax/google__orbax/checkpoint/orbax/checkpoint/experimental/v1/_src/testing/"
    "compatibility/managed_checkpoints/v0_managed/has_metrics/has_custom_metadata";

// Saves the fixture's run with stowage into `root`.
void SaveLikeTheFixture(const fs::path& root) {
  CheckpointManagerOptions options;
  options.handler.pytree.array_value_type = ArrayValueType::kJaxArray;
  options.handler.pytree.fsync = kvstore::FsyncPolicy::kNone;
  options.root_custom_metadata = {{"foo", "bar"}};
  options.retention.best_fn = MetricNamed("loss");
  options.retention.best_mode = BestMode::kMin;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, options));
  CompositeSaveArgs items;
  items.items.emplace_back("state", PyTreeSaveArgs{testing::OrbaxCompatTree()});
  items.items.emplace_back("metadata", JsonSaveArgs{{{"metadata", "json_data"}}});
  StepSaveOptions save{.metrics = ordered_json{{"loss", 0.5}},
                       .custom_metadata = {{"custom", "meta"}}};
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(0, std::move(items), save));
  EXPECT_TRUE(saved);
  ASSERT_OK(manager->Close());
}

// Files and folders directly in `dir`, by name.
std::set<std::string> Entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

TEST(ManagerLayoutTest, RootAndStepMatchOrbaxFileForFile) {
  auto orbax = testing::FixturePath(kOrbaxRoot);
  if (!orbax) GTEST_SKIP() << "fixtures absent";
  testing::TempDir tmp;
  fs::path ours = tmp.path() / "run";
  SaveLikeTheFixture(ours);
  EXPECT_EQ(Entries(ours), Entries(*orbax));  // "0" and "metadata"
  EXPECT_EQ(ReadFileOrDie(ours / "metadata" / "_ROOT_METADATA"),
            ReadFileOrDie(*orbax / "metadata" / "_ROOT_METADATA"));
  std::set<std::string> orbax_step = Entries(*orbax / "0");
  orbax_step.erase("baz");  // an item of a handler written only by Orbax's tests
  std::set<std::string> our_step = Entries(ours / "0");
  // stowage commits every checkpoint with commit_success.txt (Orbax: on GCS
  // only); Orbax ignores the file elsewhere.
  EXPECT_EQ(our_step.erase("commit_success.txt"), 1u);
  EXPECT_EQ(our_step, orbax_step);
  for (const char* file : {"metrics/metrics", "metadata/metadata", "state/_METADATA",
                           "state/_sharding", "state/array_metadatas/process_0"}) {
    EXPECT_EQ(ReadFileOrDie(ours / "0" / file), ReadFileOrDie(*orbax / "0" / file)) << file;
  }
  auto mine = ordered_json::parse(ReadFileOrDie(ours / "0" / "_CHECKPOINT_METADATA"));
  auto theirs = ordered_json::parse(ReadFileOrDie(*orbax / "0" / "_CHECKPOINT_METADATA"));
  theirs["item_handlers"].erase("baz");
  EXPECT_EQ(mine["item_handlers"].dump(), theirs["item_handlers"].dump());
  EXPECT_EQ(mine["metrics"], theirs["metrics"]);  // {}: Orbax keeps metrics in the item
  EXPECT_EQ(mine["custom_metadata"], theirs["custom_metadata"]);
  std::vector<std::string> keys, orbax_keys;
  for (const auto& [key, value] : mine.items()) keys.push_back(key);
  for (const auto& [key, value] : theirs.items()) orbax_keys.push_back(key);
  EXPECT_EQ(keys, orbax_keys);
}

TEST(ManagerLayoutTest, StowageReadsBothRootsAlike) {
  auto orbax = testing::FixturePath(kOrbaxRoot);
  if (!orbax) GTEST_SKIP() << "fixtures absent";
  testing::TempDir tmp;
  SaveLikeTheFixture(tmp.path() / "run");
  for (const fs::path& root : {tmp.path() / "run", *orbax}) {
    CheckpointManagerOptions options;
    options.read_only = true;
    options.retention.best_fn = MetricNamed("loss");
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, options));
    EXPECT_EQ(manager->AllSteps(), std::vector<std::int64_t>{0}) << root;
    EXPECT_EQ(manager->BestStep(), 0) << root;
    ASSERT_OK_AND_ASSIGN(auto metrics, manager->Metrics(0));
    EXPECT_EQ(metrics, ordered_json({{"loss", 0.5}})) << root;
    ASSERT_OK_AND_ASSIGN(auto custom, manager->RootCustomMetadata());
    EXPECT_EQ(custom, ordered_json({{"foo", "bar"}})) << root;
    ASSERT_OK_AND_ASSIGN(Tree state, manager->RestoreTree(0, "state"));
    const Tree* b = state.Find("b");
    ASSERT_NE(b, nullptr) << root;
    ASSERT_NE(b->Find("c"), nullptr) << root;
    auto c = std::get<Array>(b->Find("c")->leaf()).values<std::int32_t>();
    EXPECT_EQ(std::vector<std::int32_t>(c.begin(), c.end()), (std::vector<std::int32_t>{1, 2, 3}));
    auto json_items = manager->Restore(0, {.items = {"metadata"}});
    ASSERT_OK(json_items);
    EXPECT_EQ(std::get<ordered_json>(json_items->at("metadata")),
              ordered_json({{"metadata", "json_data"}}));
  }
}

}  // namespace
}  // namespace stowage
