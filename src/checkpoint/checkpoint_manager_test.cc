// CheckpointManager: when it saves, what it lists, restores, deletes and
// cleans, its root metadata and folder names, several processes sharing one
// root, and Orbax-written managed checkpoints opened read-only.
#include "stowage/checkpoint_manager.h"

#include <gtest/gtest.h>

#include <barrier>
#include <cstring>
#include <fstream>
#include <thread>

#include "testutil/testutil.h"
#include "testutil/thread_coordinator.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;
using testing::NamesIn;
using json = nlohmann::ordered_json;

CheckpointManagerOptions FastOptions() {
  CheckpointManagerOptions o;
  o.async = false;
  o.handler.pytree.fsync = kvstore::FsyncPolicy::kNone;
  o.handler.pytree.num_threads = 1;
  return o;
}

// A tree whose values tell which step saved it.
Tree TreeOf(std::int64_t step) {
  Tree tree;
  std::vector<float> w(6);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(step * 10 + i);
  tree["params"]["w"] = Array::FromValues<float>({2, 3}, w).value();
  tree["step"] = Scalar::Of(std::int64_t{step});
  return tree;
}

PyTreeSaveArgs ArgsOf(std::int64_t step) { return PyTreeSaveArgs{TreeOf(step), {}, {}}; }

// The node at `path` (map keys, or sequence indices), or null.
const Tree* At(const Tree& tree, const std::vector<std::string>& path) {
  const Tree* node = &tree;
  for (const auto& key : path) {
    if (node->is_sequence()) {
      std::size_t i = std::stoul(key);
      if (i >= node->sequence().size()) return nullptr;
      node = &node->sequence()[i];
    } else if (node->is_map()) {
      node = node->Find(key);
      if (node == nullptr) return nullptr;
    } else {
      return nullptr;
    }
  }
  return node;
}

// The elements of the array or scalar leaf at `path`; empty (with a failure)
// if there is none or its dtype is not T.
template <typename T>
std::vector<T> ValuesAt(const Tree& tree, const std::vector<std::string>& path,
                        Shape* shape = nullptr) {
  const Tree* node = At(tree, path);
  if (node == nullptr || !node->is_leaf()) {
    ADD_FAILURE() << "no leaf at " << ::testing::PrintToString(path);
    return {};
  }
  ArrayView storage;
  const ArrayView* view = ArrayViewOf(node->leaf(), storage);
  if (view == nullptr || view->dtype() != kDTypeOf<T>) {
    ADD_FAILURE() << "leaf " << ::testing::PrintToString(path) << " is not of the dtype asked";
    return {};
  }
  if (shape != nullptr) *shape = view->shape();
  std::vector<T> values(view->bytes().size() / sizeof(T));
  std::memcpy(values.data(), view->bytes().data(), view->bytes().size());
  return values;
}

void ExpectTreeOf(const Tree& tree, std::int64_t step) {
  Shape shape;
  std::vector<float> w = ValuesAt<float>(tree, {"params", "w"}, &shape);
  EXPECT_EQ(shape, (Shape{2, 3}));
  ASSERT_EQ(w.size(), 6u);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i], static_cast<float>(step * 10 + i));
  EXPECT_EQ(ValuesAt<std::int64_t>(tree, {"step"}), std::vector<std::int64_t>{step});
}

using Steps = std::vector<std::int64_t>;

// ---------------------------------------------------------------------------
// Saving.

// ShouldSave: the first save, multiples of the interval, save_on_steps, and
// never a step at or before the latest; Save skips (false) what is not due.
TEST(CheckpointManagerTest, ShouldSaveFollowsIntervalStepsAndFirstSave) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.save_interval_steps = 5;
  options.save_on_steps = {7, 12};
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path() / "root", options));
  EXPECT_TRUE(manager->ShouldSave(3));  // the first save
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(3, ArgsOf(3)));
  EXPECT_TRUE(saved);
  EXPECT_FALSE(manager->ShouldSave(3));
  EXPECT_FALSE(manager->ShouldSave(2));
  EXPECT_FALSE(manager->ShouldSave(4));
  EXPECT_TRUE(manager->ShouldSave(5));
  EXPECT_FALSE(manager->ShouldSave(6));
  EXPECT_TRUE(manager->ShouldSave(7));
  EXPECT_TRUE(manager->ShouldSave(10));
  EXPECT_TRUE(manager->ShouldSave(12));
  EXPECT_FALSE(manager->ShouldSave(13));
  ASSERT_OK_AND_ASSIGN(saved, manager->Save(4, ArgsOf(4)));
  EXPECT_FALSE(saved);
  EXPECT_FALSE(fs::exists(manager->StepPath(4)));
  ASSERT_OK_AND_ASSIGN(saved, manager->Save(7, ArgsOf(7)));
  EXPECT_TRUE(saved);
  EXPECT_FALSE(manager->ShouldSave(5));  // now before the latest
  EXPECT_TRUE(manager->ShouldSave(10));
  EXPECT_EQ(manager->AllSteps(), (Steps{3, 7}));
  EXPECT_EQ(NamesIn(tmp.path() / "root"), (std::vector<std::string>{"3", "7"}));
}

// force saves a step that is not due, even one before the latest.
TEST(CheckpointManagerTest, ForceSavesStepsThatAreNotDue) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.save_interval_steps = 100;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
  ASSERT_OK(manager->Save(1, ArgsOf(1)));
  StepSaveOptions force;
  force.force = true;
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(9, ArgsOf(9), force));
  EXPECT_TRUE(saved);
  ASSERT_OK_AND_ASSIGN(saved, manager->Save(4, ArgsOf(4), force));
  EXPECT_TRUE(saved);
  EXPECT_EQ(manager->AllSteps(), (Steps{1, 4, 9}));
  EXPECT_EQ(manager->LatestStep(), 9);
  ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(4));
  ExpectTreeOf(back, 4);
}

// A step that exists is never saved over, even with force.
TEST(CheckpointManagerTest, ExistingStepIsAlreadyExistsEvenWithForce) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK(manager->Save(2, ArgsOf(2)));
  StepSaveOptions force;
  force.force = true;
  EXPECT_ERROR_CODE(manager->Save(2, ArgsOf(99), force), ErrorCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(2));
  ExpectTreeOf(back, 2);  // untouched
  EXPECT_EQ(manager->AllSteps(), (Steps{2}));
}

// Asynchronous saves commit in the background; WaitUntilFinished returns
// when they (and retention) are done, leaving only committed folders.
TEST(CheckpointManagerTest, AsyncSavesCommitByWaitUntilFinished) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.async = true;
  options.retention.max_to_keep = 2;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(1, ArgsOf(1)));
  EXPECT_TRUE(saved);
  ASSERT_OK(manager->WaitUntilFinished());
  EXPECT_EQ(manager->AllSteps(), (Steps{1}));
  for (std::int64_t step : {2, 3, 4}) {  // each waits for the previous commit
    ASSERT_OK_AND_ASSIGN(saved, manager->Save(step, ArgsOf(step)));
    EXPECT_TRUE(saved);
  }
  ASSERT_OK(manager->WaitUntilFinished());
  EXPECT_EQ(manager->AllSteps(), (Steps{3, 4}));
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"3", "4"}));
  for (std::int64_t step : {3, 4}) {
    ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(step));
    ExpectTreeOf(back, step);
  }
  ASSERT_OK(manager->Close());
}

// The tree given to an asynchronous Save is snapshotted: the caller's memory
// may change right after Save returns.
TEST(CheckpointManagerTest, AsyncSaveSnapshotsViews) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.async = true;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
  std::vector<float> buffer(1024, 1.5f);
  Tree tree;
  tree["x"] = ArrayView::Of<float>({1024}, buffer).value();
  ASSERT_OK(manager->Save(1, PyTreeSaveArgs{std::move(tree), {}, {}}));
  std::fill(buffer.begin(), buffer.end(), -7.0f);
  ASSERT_OK(manager->WaitUntilFinished());
  ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(1));
  EXPECT_EQ(ValuesAt<float>(back, {"x"}), std::vector<float>(1024, 1.5f));
}

// After Close, saves fail.
TEST(CheckpointManagerTest, SaveAfterCloseFails) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK(manager->Save(1, ArgsOf(1)));
  ASSERT_OK(manager->Close());
  StepSaveOptions force;
  force.force = true;
  EXPECT_FALSE(manager->Save(2, ArgsOf(2), force).has_value());
  EXPECT_FALSE(fs::exists(tmp.path() / "2"));
}

// ---------------------------------------------------------------------------
// Listing and restoring.

// LatestStep and BestStep, with and without best_fn; none on an empty root.
TEST(CheckpointManagerTest, LatestAndBestStep) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.retention.best_fn = MetricNamed("loss");
  options.retention.best_mode = BestMode::kMin;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path() / "a", options));
  EXPECT_EQ(manager->LatestStep(), std::nullopt);
  EXPECT_EQ(manager->BestStep(), std::nullopt);
  EXPECT_TRUE(manager->AllSteps().empty());
  for (auto [step, loss] : std::vector<std::pair<int, double>>{{1, 3.0}, {2, 1.0}, {3, 2.0}}) {
    StepSaveOptions save;
    save.metrics = json{{"loss", loss}};
    ASSERT_OK(manager->Save(step, ArgsOf(step), save));
  }
  EXPECT_EQ(manager->LatestStep(), 3);
  EXPECT_EQ(manager->BestStep(), 2);

  ASSERT_OK_AND_ASSIGN(auto plain, CheckpointManager::Open(tmp.path() / "b", FastOptions()));
  ASSERT_OK(plain->Save(5, ArgsOf(5)));
  ASSERT_OK(plain->Save(6, ArgsOf(6)));
  EXPECT_EQ(plain->BestStep(), 6);
}

// A composite step restores item by item: trees bit-exact, JSON as saved.
TEST(CheckpointManagerTest, RestoreRoundTripsItems) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  json config = {{"lr", 0.001}, {"name", "run-1"}, {"layers", {4, 8}}};
  CompositeSaveArgs items;
  items.items.emplace_back("state", ArgsOf(10));
  items.items.emplace_back("config", JsonSaveArgs{config});
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(10, std::move(items)));
  EXPECT_TRUE(saved);
  EXPECT_TRUE(fs::is_directory(tmp.path() / "10" / "state"));
  EXPECT_TRUE(fs::exists(tmp.path() / "10" / "_CHECKPOINT_METADATA"));

  ASSERT_OK_AND_ASSIGN(auto all, manager->Restore(10));
  ASSERT_TRUE(all.contains("state"));
  ASSERT_TRUE(all.contains("config"));
  ExpectTreeOf(std::get<Tree>(all.at("state")), 10);
  EXPECT_EQ(std::get<json>(all.at("config")), config);
  ASSERT_OK_AND_ASSIGN(auto only, manager->Restore(10, {{"config"}}));
  EXPECT_EQ(only.size(), 1u);
  ASSERT_OK_AND_ASSIGN(Tree state, manager->RestoreTree(10, "state"));
  ExpectTreeOf(state, 10);
  EXPECT_ERROR_CODE(manager->RestoreTree(10, "config"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(manager->Restore(11), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(manager->RestoreTree(11), ErrorCode::kNotFound);
}

// A single tree goes to the item "default".
TEST(CheckpointManagerTest, SingleTreeIsTheDefaultItem) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK(manager->Save(1, ArgsOf(1)));
  EXPECT_TRUE(fs::exists(tmp.path() / "1" / "default" / "_METADATA"));
  ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(1));
  ExpectTreeOf(back, 1);
  ASSERT_OK_AND_ASSIGN(auto all, manager->Restore(1, {{"default"}}));
  ExpectTreeOf(std::get<Tree>(all.at("default")), 1);
}

// Metrics are stored in `<step>/metrics/metrics` and read back; a step saved
// without has none; a missing step is kNotFound.
TEST(CheckpointManagerTest, MetricsAreStoredPerStep) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  json metrics = {{"loss", 0.25}, {"accuracy", 0.875}, {"epoch", 3}};
  StepSaveOptions save;
  save.metrics = metrics;
  ASSERT_OK(manager->Save(1, ArgsOf(1), save));
  ASSERT_OK(manager->Save(2, ArgsOf(2)));
  ASSERT_OK_AND_ASSIGN(auto got, manager->Metrics(1));
  EXPECT_EQ(got, metrics);
  ASSERT_OK_AND_ASSIGN(got, manager->Metrics(2));
  EXPECT_EQ(got, std::nullopt);
  EXPECT_ERROR_CODE(manager->Metrics(3), ErrorCode::kNotFound);
  EXPECT_EQ(json::parse(testing::ReadFileOrDie(tmp.path() / "1" / "metrics" / "metrics")), metrics);
  EXPECT_FALSE(fs::exists(tmp.path() / "2" / "metrics"));
  auto infos = manager->Checkpoints();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].metrics, metrics);
  EXPECT_EQ(infos[1].metrics, std::nullopt);
}

// RetentionView says why each committed step would be kept.
TEST(CheckpointManagerTest, RetentionViewExplainsTheNextDecision) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.retention.max_to_keep = 2;
  options.retention.keep_period = 2;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
  for (int step = 1; step <= 4; ++step) ASSERT_OK(manager->Save(step, ArgsOf(step)));
  EXPECT_EQ(manager->AllSteps(), (Steps{2, 3, 4}));
  auto view = manager->RetentionView();
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view[0], KeepReason::kKeepPeriod);
  EXPECT_EQ(view[1], KeepReason::kMaxToKeep);
  EXPECT_TRUE(Has(view[2], KeepReason::kLatest));
  EXPECT_TRUE(Has(view[2], KeepReason::kKeepPeriod));
}

// ---------------------------------------------------------------------------
// Deleting, reloading, read-only.

// Delete removes the step and its folder; deleting it again is kNotFound.
TEST(CheckpointManagerTest, DeleteRemovesAStep) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  for (int step = 1; step <= 3; ++step) ASSERT_OK(manager->Save(step, ArgsOf(step)));
  ASSERT_OK(manager->Delete(2));
  EXPECT_EQ(manager->AllSteps(), (Steps{1, 3}));
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"1", "3"}));
  EXPECT_ERROR_CODE(manager->Delete(2), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(manager->RestoreTree(2), ErrorCode::kNotFound);
  ASSERT_OK(manager->Delete(3));
  EXPECT_EQ(manager->LatestStep(), 1);
  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointManager::Open(tmp.path(), FastOptions()));
  EXPECT_EQ(reopened->AllSteps(), (Steps{1}));
}

// Reload shows what another manager saved and deleted meanwhile.
TEST(CheckpointManagerTest, ReloadSeesAnotherManagersChanges) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto writer, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK_AND_ASSIGN(auto reader, CheckpointManager::Open(tmp.path(), FastOptions()));
  StepSaveOptions save;
  save.metrics = json{{"loss", 1.5}};
  ASSERT_OK(writer->Save(1, ArgsOf(1), save));
  ASSERT_OK(reader->Reload());
  EXPECT_EQ(reader->AllSteps(), (Steps{1}));
  ASSERT_OK_AND_ASSIGN(auto metrics, reader->Metrics(1));
  EXPECT_EQ(metrics, save.metrics);
  ASSERT_OK(writer->Save(2, ArgsOf(2)));
  ASSERT_OK(writer->Delete(1));
  ASSERT_OK(reader->Reload());
  EXPECT_EQ(reader->AllSteps(), (Steps{2}));
  ASSERT_OK_AND_ASSIGN(Tree back, reader->RestoreTree(2));
  ExpectTreeOf(back, 2);
}

// A read-only manager lists and restores, but refuses to save or delete and
// writes nothing (not even the cleanup of temporaries).
TEST(CheckpointManagerTest, ReadOnlyRefusesToWrite) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  {
    ASSERT_OK_AND_ASSIGN(auto writer, CheckpointManager::Open(tmp.path(), FastOptions()));
    ASSERT_OK(writer->Save(1, ArgsOf(1)));
  }
  fs::create_directory(tmp.path() / "2.orbax-checkpoint-tmp");
  auto options = FastOptions();
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
  EXPECT_EQ(manager->AllSteps(), (Steps{1}));
  ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(1));
  ExpectTreeOf(back, 1);
  StepSaveOptions force;
  force.force = true;
  EXPECT_ERROR_CODE(manager->Save(3, ArgsOf(3), force), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(manager->Delete(1), ErrorCode::kInvalidArgument);
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"1", "2.orbax-checkpoint-tmp"}));
  ASSERT_OK_AND_ASSIGN(auto root_metadata, manager->RootCustomMetadata());
  EXPECT_TRUE(root_metadata.is_null());
}

// Without create, a missing root is kNotFound (and is not created); with it
// (the default) the root is created.
TEST(CheckpointManagerTest, CreateFalseOnMissingRootIsNotFound) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.create = false;
  EXPECT_ERROR_CODE(CheckpointManager::Open(tmp.path() / "missing", options), ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(tmp.path() / "missing"));
  options.read_only = true;
  EXPECT_ERROR_CODE(CheckpointManager::Open(tmp.path() / "missing", options), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto manager,
                       CheckpointManager::Open(tmp.path() / "new" / "root", FastOptions()));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "new" / "root"));
  EXPECT_EQ(manager->directory(), tmp.path() / "new" / "root");
  options.read_only = false;
  ASSERT_OK_AND_ASSIGN(auto existing,
                       CheckpointManager::Open(tmp.path() / "new" / "root", options));
  EXPECT_TRUE(existing->AllSteps().empty());
}

// ---------------------------------------------------------------------------
// The root: metadata, temporaries, folder names.

// root_custom_metadata goes to `metadata/_ROOT_METADATA` as Orbax writes it,
// once: a later manager with other metadata does not replace it.
TEST(CheckpointManagerTest, RootCustomMetadataIsWrittenOnce) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  json custom = {{"foo", "bar"}, {"n", 1}};
  {
    auto options = FastOptions();
    options.root_custom_metadata = custom;
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
    ASSERT_OK(manager->Save(1, ArgsOf(1)));
    ASSERT_OK(manager->WaitUntilFinished());
    ASSERT_OK_AND_ASSIGN(auto got, manager->RootCustomMetadata());
    EXPECT_EQ(got, custom);
    EXPECT_EQ(manager->AllSteps(), (Steps{1}));  // `metadata` is no step
  }
  fs::path file = tmp.path() / "metadata" / "_ROOT_METADATA";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(nlohmann::json::parse(testing::ReadFileOrDie(file)),
            nlohmann::json::parse(
                R"({"internal_metadata": {}, "custom_metadata": {"foo": "bar", "n": 1}})"));
  auto options = FastOptions();
  options.root_custom_metadata = json{{"other", true}};
  ASSERT_OK_AND_ASSIGN(auto second, CheckpointManager::Open(tmp.path(), options));
  ASSERT_OK(second->Save(2, ArgsOf(2)));
  ASSERT_OK_AND_ASSIGN(auto got, second->RootCustomMetadata());
  EXPECT_EQ(got, custom);
  ASSERT_OK_AND_ASSIGN(auto plain, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK_AND_ASSIGN(got, plain->RootCustomMetadata());
  EXPECT_EQ(got, custom);
}

// Without root_custom_metadata nothing is written and it reads as null.
TEST(CheckpointManagerTest, NoRootMetadataByDefault) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK(manager->Save(1, ArgsOf(1)));
  ASSERT_OK_AND_ASSIGN(auto got, manager->RootCustomMetadata());
  EXPECT_TRUE(got.is_null());
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"1"}));
}

void Touch(const fs::path& file) { std::ofstream(file) << "partial"; }

// Temporaries of crashed saves and deletes are never listed, and Open
// removes them; other files are left alone.
TEST(CheckpointManagerTest, OpenRemovesTemporaries) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  {
    ASSERT_OK_AND_ASSIGN(auto writer, CheckpointManager::Open(tmp.path(), FastOptions()));
    ASSERT_OK(writer->Save(1, ArgsOf(1)));
    ASSERT_OK(writer->Save(2, ArgsOf(2)));
  }
  fs::create_directories(tmp.path() / "5.orbax-checkpoint-tmp" / "default");
  Touch(tmp.path() / "5.orbax-checkpoint-tmp" / "default" / "_METADATA");
  fs::create_directories(tmp.path() / "7.orbax-checkpoint-tmp-deleting" / "default");
  Touch(tmp.path() / "7.orbax-checkpoint-tmp-deleting" / "_CHECKPOINT_METADATA");
  Touch(tmp.path() / "notes.txt");
  fs::create_directory(tmp.path() / "other");
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), FastOptions()));
  EXPECT_EQ(manager->AllSteps(), (Steps{1, 2}));
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"1", "2", "notes.txt", "other"}));
  EXPECT_TRUE(manager->ShouldSave(3));
  ASSERT_OK(manager->Save(5, ArgsOf(5)));  // the step of the crashed save
  ASSERT_OK_AND_ASSIGN(Tree back, manager->RestoreTree(5));
  ExpectTreeOf(back, 5);
}

// step_prefix and a fixed length name the folders `ckpt_0007`; a manager of
// another format does not see them.
TEST(CheckpointManagerTest, StepPrefixAndFixedLengthNameFolders) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  auto options = FastOptions();
  options.step_names = {.prefix = "ckpt", .fixed_length = 4};
  {
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(tmp.path(), options));
    ASSERT_OK(manager->Save(7, ArgsOf(7)));
    ASSERT_OK(manager->Save(12345, ArgsOf(12345)));
    EXPECT_EQ(manager->StepPath(7), tmp.path() / "ckpt_0007");
    EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"ckpt_0007", "ckpt_12345"}));
  }
  ASSERT_OK_AND_ASSIGN(auto again, CheckpointManager::Open(tmp.path(), options));
  EXPECT_EQ(again->AllSteps(), (Steps{7, 12345}));
  ASSERT_OK_AND_ASSIGN(Tree back, again->RestoreTree(7));
  ExpectTreeOf(back, 7);
  ASSERT_OK_AND_ASSIGN(auto plain, CheckpointManager::Open(tmp.path(), FastOptions()));
  EXPECT_TRUE(plain->AllSteps().empty());
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"ckpt_0007", "ckpt_12345"}));
}

// ---------------------------------------------------------------------------
// Several processes.

// Two processes (threads) save steps 1..6 into one root with max_to_keep 2:
// both always list the same steps, and only two folders remain.
TEST(CheckpointManagerTest, TwoProcessesAgreeOnRetention) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  constexpr int kProcesses = 2;
  auto coordinators = testing::ThreadCoordinators(kProcesses);
  std::vector<std::vector<Steps>> listed(kProcesses);
  std::vector<std::string> errors(kProcesses);
  std::vector<std::thread> processes;
  for (int p = 0; p < kProcesses; ++p) {
    processes.emplace_back([&, p] {
      auto options = FastOptions();
      options.retention.max_to_keep = 2;
      options.handler.pytree.coordinator = coordinators[p];
      options.handler.pytree.collective_timeout = std::chrono::seconds(30);
      auto manager = CheckpointManager::Open(tmp.path(), options);
      if (!manager.has_value()) {
        errors[p] = "open: " + manager.error().ToString();
        return;
      }
      for (int step = 1; step <= 6; ++step) {
        auto saved = (*manager)->Save(step, ArgsOf(step));
        if (!saved.has_value() || !*saved) {
          errors[p] = "save " + std::to_string(step) + ": " +
                      (saved.has_value() ? "not saved" : saved.error().ToString());
          return;
        }
        listed[p].push_back((*manager)->AllSteps());
      }
      if (auto closed = (*manager)->Close(); !closed.has_value()) {
        errors[p] = "close: " + closed.error().ToString();
      }
    });
  }
  for (auto& process : processes) process.join();
  for (int p = 0; p < kProcesses; ++p) ASSERT_EQ(errors[p], "") << "process " << p;
  std::vector<Steps> want = {{1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}};
  EXPECT_EQ(listed[0], want);
  EXPECT_EQ(listed[1], want);
  EXPECT_EQ(NamesIn(tmp.path()), (std::vector<std::string>{"5", "6"}));
  ASSERT_OK_AND_ASSIGN(auto reader, CheckpointManager::Open(tmp.path(), FastOptions()));
  ASSERT_OK_AND_ASSIGN(Tree back, reader->RestoreTree(6));
  ExpectTreeOf(back, 6);
}

// ---------------------------------------------------------------------------
// Roots written by Orbax (shared/fixtures/orbax), opened read-only.

// Every entry below `root` with its size and modification time.
std::vector<std::string> Snapshot(const fs::path& root) {
  std::vector<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string line = entry.path().lexically_relative(root).string();
    line += " " + std::to_string(entry.last_write_time().time_since_epoch().count());
    if (entry.is_regular_file()) line += " " + std::to_string(entry.file_size());
    entries.push_back(line);
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

CheckpointManagerOptions FixtureOptions() {
  CheckpointManagerOptions o;
  o.read_only = true;
  o.create = false;
  return o;
}

class ManagedFixtureTest : public ::testing::TestWithParam<std::string> {};

// Orbax's managed-checkpoint compatibility roots (v0 and v1 API, with and
// without metrics and root metadata): step 0, its state, metrics, metadata.
TEST_P(ManagedFixtureTest, ListsAndRestoresOrbaxRoot) {
  auto root = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/experimental/v1/_src/testing/"
      "compatibility/managed_checkpoints/" +
      GetParam());
  if (!root) GTEST_SKIP() << "fixtures absent";
  auto before = Snapshot(*root);
  {
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(*root, FixtureOptions()));
    EXPECT_EQ(manager->AllSteps(), (Steps{0}));
    EXPECT_EQ(manager->LatestStep(), 0);
    ASSERT_OK_AND_ASSIGN(Tree state, manager->RestoreTree(0, "state"));
    EXPECT_EQ(ValuesAt<std::int32_t>(state, {"a"}),
              (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(ValuesAt<std::int32_t>(state, {"b", "c"}), (std::vector<std::int32_t>{1, 2, 3}));
    ASSERT_OK_AND_ASSIGN(auto metrics, manager->Metrics(0));
    if (GetParam().find("/has_metrics/") != std::string::npos) {
      EXPECT_EQ(metrics, json({{"loss", 0.5}}));
    } else {
      EXPECT_EQ(metrics, std::nullopt);
    }
    ASSERT_OK_AND_ASSIGN(auto custom, manager->RootCustomMetadata());
    if (GetParam().ends_with("/has_custom_metadata")) {
      EXPECT_EQ(custom, json({{"foo", "bar"}}));
    } else {
      EXPECT_TRUE(custom.is_null()) << custom.dump();
    }
    StepSaveOptions force;
    force.force = true;
    EXPECT_ERROR_CODE(manager->Save(1, ArgsOf(1), force), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(Snapshot(*root), before);  // nothing written
}

INSTANTIATE_TEST_SUITE_P(Orbax, ManagedFixtureTest,
                         ::testing::Values("v0_managed/has_metrics/has_custom_metadata",
                                           "v0_managed/has_metrics/no_custom_metadata",
                                           "v0_managed/no_metrics/has_custom_metadata",
                                           "v0_managed/no_metrics/no_custom_metadata",
                                           "v1_managed/has_metrics/has_custom_metadata",
                                           "v1_managed/has_metrics/no_custom_metadata",
                                           "v1_managed/no_metrics/has_custom_metadata",
                                           "v1_managed/no_metrics/no_custom_metadata"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '/', '_');
                           return name;
                         });

// A training run's root (SAR2652/Polynomial-Expansion): step 1, item
// "default", values as DECODED_SUMMARY.json records them.
TEST(OrbaxRootTest, PolynomialExpansionRun) {
  auto root = testing::FixturePath("orbax/SAR2652__Polynomial-Expansion/checkpoints");
  if (!root) GTEST_SKIP() << "fixtures absent";
  auto before = Snapshot(*root);
  {
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(*root, FixtureOptions()));
    EXPECT_EQ(manager->AllSteps(), (Steps{1}));
    auto infos = manager->Checkpoints();
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(infos[0].time.time_since_epoch())
                  .count(),
              1752428126676800000);  // commit_timestamp_nsecs
    EXPECT_EQ(infos[0].metrics, std::nullopt);
    ASSERT_OK_AND_ASSIGN(Tree tree, manager->RestoreTree(1));
    EXPECT_EQ(ValuesAt<std::int32_t>(tree, {"opt_state", "0", "count"}),
              std::vector<std::int32_t>{2});
    Shape shape;
    auto kernel = ValuesAt<float>(
        tree, {"opt_state", "0", "mu", "decoder", "cross_attention", "out_proj", "kernel"}, &shape);
    EXPECT_EQ(shape, (Shape{64, 64}));
    ASSERT_EQ(kernel.size(), 64u * 64u);
    EXPECT_EQ(*std::max_element(kernel.begin(), kernel.end()), 0.09777840226888657f);
    EXPECT_EQ(*std::min_element(kernel.begin(), kernel.end()), -0.10625683516263962f);
    double sum = 0;
    for (float v : kernel) sum += v;
    EXPECT_NEAR(sum, 0.6819455824547731, 1e-5);
  }
  EXPECT_EQ(Snapshot(*root), before);
}

// Another run's root (Avi161/ACSolverX): step 1000 with a JSON item and two
// Standard items.
TEST(OrbaxRootTest, AcSolverRun) {
  auto root = testing::FixturePath("orbax/Avi161__ACSolverX/ppo_checkpoints/610model");
  if (!root) GTEST_SKIP() << "fixtures absent";
  auto before = Snapshot(*root);
  {
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(*root, FixtureOptions()));
    EXPECT_EQ(manager->AllSteps(), (Steps{1000}));
    EXPECT_EQ(manager->BestStep(), 1000);
    auto infos = manager->Checkpoints();
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(infos[0].time.time_since_epoch())
                  .count(),
              1782116182312247431);
    ASSERT_OK_AND_ASSIGN(auto config, manager->Restore(1000, {{"config"}}));
    const auto& value = std::get<json>(config.at("config"));
    EXPECT_EQ(value.at("LR"), 0.0025);
    EXPECT_EQ(value.at("ENV_NAME"), "AC-v0");
    ASSERT_OK_AND_ASSIGN(Tree params, manager->RestoreTree(1000, "params"));
    EXPECT_EQ(ValuesAt<float>(params, {"params", "Dense_4", "bias"}),
              (std::vector<float>{-0.19049681723117828f, 0.14187811315059662f,
                                  -0.20827938616275787f, 0.1662382334470749f}));
    Shape shape;
    auto kernel = ValuesAt<float>(params, {"params", "Dense_1", "kernel"}, &shape);
    EXPECT_EQ(shape, (Shape{256, 256}));
    ASSERT_FALSE(kernel.empty());
    EXPECT_EQ(*std::max_element(kernel.begin(), kernel.end()), 1.0375189781188965f);
    EXPECT_EQ(*std::min_element(kernel.begin(), kernel.end()), -2.5029866695404053f);
  }
  EXPECT_EQ(Snapshot(*root), before);
}

}  // namespace
}  // namespace stowage
