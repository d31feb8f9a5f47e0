// CheckpointManager: steps under one root, saved through an
// AsyncCheckpointer of a CompositeCheckpointHandler, as Orbax's manager does
// (orbax `checkpoint_manager.py`). Process 0 lists, cleans and deletes; the
// other processes learn what it did through the coordinator.
#include "stowage/checkpoint_manager.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/collective.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"
#include "checkpoint/manager_listing.h"
#include "kvstore/file_ops.h"
#include "stowage/checkpointer.h"
#include "stowage/directory.h"

namespace stowage {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using checkpoint::kPrimaryProcess;

namespace {

struct ManagerState {
  ManagerState(fs::path root_in, CheckpointManagerOptions options_in)
      : root(std::move(root_in)),
        options(std::move(options_in)),
        checkpointer(CompositeCheckpointHandler(options.handler)) {}

  Coordinator& coordinator() { return checkpointer.handler().coordinator(); }
  bool primary() { return coordinator().process_index() == kPrimaryProcess; }
  bool alone() { return coordinator().process_count() == 1; }
  std::chrono::milliseconds timeout() const { return options.handler.pytree.collective_timeout; }
  fs::path StepPath(std::int64_t step) const { return root / options.step_names.Name(step); }

  const fs::path root;
  const CheckpointManagerOptions options;
  AsyncCheckpointer<CompositeCheckpointHandler> checkpointer;

  mutable std::mutex mutex;                 // guards the members below
  std::vector<StepInfo> checkpoints;        // committed, ascending
  std::optional<std::int64_t> saving_step;  // the save in flight
  Status last_save = OkStatus();            // its outcome, until reported
  bool closed = false;

  std::thread finalizer;  // waits for the commit, then applies retention
};

Status ValidateOptions(const CheckpointManagerOptions& options) {
  const RetentionOptions& r = options.retention;
  if (options.save_interval_steps < 0) {
    return InvalidArgumentError("CheckpointManager: save_interval_steps must be >= 0");
  }
  if (r.max_to_keep && *r.max_to_keep < 0) {
    return InvalidArgumentError("CheckpointManager: max_to_keep must be unset or >= 0");
  }
  if (r.keep_period && *r.keep_period <= 0) {
    return InvalidArgumentError("CheckpointManager: keep_period must be > 0");
  }
  if (r.keep_time_interval && r.keep_time_interval->count() < 0) {
    return InvalidArgumentError("CheckpointManager: keep_time_interval must be >= 0");
  }
  const StepNameFormat& names = options.step_names;
  if (names.fixed_length && (*names.fixed_length < 0 || *names.fixed_length > 19)) {
    return InvalidArgumentError("CheckpointManager: step_format_fixed_length must be in [0, 19]");
  }
  if (names.prefix.find('/') != std::string::npos || names.prefix.find('\0') != std::string::npos) {
    return InvalidArgumentError("CheckpointManager: step prefix \"" + names.prefix +
                                "\" is not a plain name");
  }
  return OkStatus();
}

CheckpointManagerOptions WithDefaults(CheckpointManagerOptions options) {
  if (!options.clock) options.clock = [] { return std::chrono::system_clock::now(); };
  std::string metrics(kMetricsItemName);
  options.handler.json_filenames[metrics] = metrics;
  if (options.read_only) options.create = false;
  return options;
}

// Process 0's side of opening or reloading: the root exists (created if
// asked), temporaries are gone, root metadata written; then its listing.
Result<std::vector<StepInfo>> ListOnPrimary(const ManagerState& s, bool opening) {
  const CheckpointManagerOptions& options = s.options;
  STOWAGE_ASSIGN_OR_RETURN(bool exists, kvstore::DirectoryExists(s.root));
  if (!exists) {
    if (!options.create) {
      return NotFoundError("checkpoint manager root " + s.root.string() + " not found");
    }
    // An object store has no folders: the root appears with its first object.
    if (!kvstore::IsObjectStoreUrl(s.root)) {
      STOWAGE_RETURN_IF_ERROR(kvstore::CreateDirectories(s.root));
    }
  }
  if (opening && !options.read_only) {
    STOWAGE_RETURN_IF_ERROR(checkpoint::RemoveStepTemporaries(s.root, options.step_names));
    if (!options.root_custom_metadata.is_null()) {
      STOWAGE_RETURN_IF_ERROR(
          checkpoint::WriteRootMetadataOnce(s.root, options.root_custom_metadata));
    }
  }
  return checkpoint::ListCheckpoints(s.root, options.step_names);
}

// Process 0 lists; every process gets its list (or its error).
Result<std::vector<StepInfo>> ListEverywhere(ManagerState& s, bool opening) {
  Result<std::vector<StepInfo>> listed = std::vector<StepInfo>{};
  if (s.primary()) listed = ListOnPrimary(s, opening);
  if (s.alone()) return listed;
  Status outcome = listed.has_value() ? OkStatus() : Status(listed.error());
  STOWAGE_RETURN_IF_ERROR(
      checkpoint::ShareFromPrimary(s.coordinator(), "manager list", outcome, s.timeout()));
  STOWAGE_ASSIGN_OR_RETURN(
      std::string shared,
      s.coordinator().Broadcast("manager list",
                                s.primary() ? checkpoint::EncodeStepInfos(*listed) : "",
                                kPrimaryProcess, s.timeout()));
  return checkpoint::DecodeStepInfos(shared);
}

std::string StepList(const std::vector<StepInfo>& infos) {
  std::string list;
  for (const auto& info : infos) list += (list.empty() ? "" : ", ") + std::to_string(info.step);
  return list.empty() ? "none" : list;
}

const StepInfo* FindStep(const std::vector<StepInfo>& infos, std::int64_t step) {
  auto it = std::find_if(infos.begin(), infos.end(), [&](const auto& i) { return i.step == step; });
  return it == infos.end() ? nullptr : &*it;
}

// What every process applies once a save commits: the new step's info and
// the steps retention deletes, as process 0 decided them.
struct SavePlan {
  StepInfo info;
  std::vector<std::int64_t> to_delete;
};

SavePlan PlanOnPrimary(const ManagerState& s, StepInfo info) {
  std::vector<StepInfo> after;
  {
    std::lock_guard lock(s.mutex);
    after = s.checkpoints;
  }
  after.push_back(info);
  std::sort(after.begin(), after.end(),
            [](const auto& a, const auto& b) { return a.step < b.step; });
  std::vector<KeepReason> keep = DecideRetention(after, s.options.retention);
  SavePlan plan{std::move(info), {}};
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (keep[i] == KeepReason::kNone) plan.to_delete.push_back(after[i].step);
  }
  return plan;
}

// Process 0's plan on every process.
Result<SavePlan> AgreeOnPlan(ManagerState& s, SavePlan local) {
  if (s.alone()) return local;
  std::string encoded;
  if (s.primary()) {
    encoded =
        ojson{{"info", checkpoint::StepInfoToJson(local.info)}, {"delete", local.to_delete}}.dump();
  }
  STOWAGE_ASSIGN_OR_RETURN(std::string shared,
                           s.coordinator().Broadcast("manager save plan", std::move(encoded),
                                                     kPrimaryProcess, s.timeout()));
  ojson plan = ojson::parse(shared, nullptr, false);
  if (plan.is_discarded() || !plan.contains("info") || !plan.contains("delete")) {
    return DataLossError("malformed save plan from the primary process");
  }
  STOWAGE_ASSIGN_OR_RETURN(StepInfo info, checkpoint::StepInfoFromJson(plan["info"]));
  try {
    return SavePlan{std::move(info), plan["delete"].get<std::vector<std::int64_t>>()};
  } catch (const nlohmann::json::exception&) {
    return DataLossError("malformed save plan from the primary process");
  }
}

void InsertStep(std::vector<StepInfo>& infos, const StepInfo& info) {
  auto at = std::upper_bound(infos.begin(), infos.end(), info.step,
                             [](std::int64_t step, const StepInfo& i) { return step < i.step; });
  infos.insert(at, info);
}

// Whether step's folder is still there as a checkpoint (on an object store:
// still committed); `if_unknown` when the store cannot tell.
bool StepFolderExists(const ManagerState& s, std::int64_t step, bool if_unknown) {
  if (kvstore::IsObjectStoreUrl(s.root)) {
    return checkpoint::FileExists(s.StepPath(step) / checkpoint::kCommitSuccessFile)
        .value_or(if_unknown);
  }
  std::error_code ec;
  return fs::exists(s.StepPath(step), ec);
}

// A save whose commit failed after its folder was renamed into place (the
// fsync of the root, say) is rolled back, so that a failed save leaves no
// step. Returns the save's error (with the rollback's, if that failed too)
// and whether the step's folder is still there.
std::pair<Status, bool> RollBackFailedSave(const ManagerState& s, std::int64_t step,
                                           const Status& failed) {
  // A failed save almost never committed (on an object store, only when the
  // answer to the commit PUT was lost): unknown counts as not there, and a
  // Reload finds the rare exception.
  if (!StepFolderExists(s, step, false)) return {failed, false};
  Status removed = checkpoint::DeleteStepFolder(s.StepPath(step));
  if (removed.has_value() || !StepFolderExists(s, step, false)) return {failed, false};
  return {
      failed.error().WithContext("step " + std::to_string(step) + " could not be rolled back (" +
                                 removed.error().ToString() + ") and stays listed"),
      true};
}

// Process 0 deletes the steps retention dropped; returns those still there
// (their deletion failed before they were renamed away) and the first error.
std::vector<std::int64_t> DeleteDroppedSteps(const ManagerState& s, const SavePlan& plan,
                                             Status& outcome) {
  std::vector<std::int64_t> survived;
  for (std::int64_t step : plan.to_delete) {
    Status deleted = checkpoint::DeleteStepFolder(s.StepPath(step));
    if (deleted.has_value()) continue;
    if (StepFolderExists(s, step, true)) survived.push_back(step);
    if (outcome.has_value()) {
      outcome = deleted.error().WithContext("step " + std::to_string(plan.info.step) +
                                            " committed, but retention could not delete step " +
                                            std::to_string(step));
    }
  }
  return survived;
}

// The step's time is its commit time, as a listing of the root reads it.
void UseCommitTime(const ManagerState& s, StepInfo& info) {
  if (auto time = checkpoint::RecordedCommitTime(s.StepPath(info.step))) info.time = *time;
}

// On the finalizer thread: records the outcome of the commit and, if it
// committed, applies retention (process 0 deletes the folders; a step whose
// deletion failed stays listed there).
void FinishSave(ManagerState& s, const Status& committed, SavePlan plan) {
  if (!committed.has_value()) {
    auto [outcome, remains] = s.primary() ? RollBackFailedSave(s, plan.info.step, committed)
                                          : std::pair<Status, bool>{committed, false};
    if (remains) UseCommitTime(s, plan.info);
    std::lock_guard lock(s.mutex);
    s.saving_step.reset();
    s.last_save = outcome;
    if (remains) InsertStep(s.checkpoints, plan.info);
    return;
  }
  Status outcome = OkStatus();
  UseCommitTime(s, plan.info);
  std::vector<std::int64_t> survived;
  if (s.primary()) survived = DeleteDroppedSteps(s, plan, outcome);
  auto dropped = [&](std::int64_t step) {
    return std::find(plan.to_delete.begin(), plan.to_delete.end(), step) != plan.to_delete.end() &&
           std::find(survived.begin(), survived.end(), step) == survived.end();
  };
  std::lock_guard lock(s.mutex);
  s.saving_step.reset();
  s.last_save = outcome;
  std::erase_if(s.checkpoints, [&](const StepInfo& info) { return dropped(info.step); });
  if (!dropped(plan.info.step)) InsertStep(s.checkpoints, plan.info);
}

Status CheckWritable(const ManagerState& s, std::string_view what) {
  std::lock_guard lock(s.mutex);
  if (s.closed) {
    return InvalidArgumentError(std::string(what) + " after Close on " + s.root.string());
  }
  if (s.options.read_only) {
    return InvalidArgumentError(std::string(what) + " on a read-only manager of " +
                                s.root.string());
  }
  return OkStatus();
}

}  // namespace

struct CheckpointManager::State : ManagerState {
  using ManagerState::ManagerState;
};

CheckpointManager::CheckpointManager(std::unique_ptr<State> state) : state_(std::move(state)) {}

CheckpointManager::~CheckpointManager() {
  if (state_ && state_->finalizer.joinable()) state_->finalizer.join();
}

Result<std::unique_ptr<CheckpointManager>> CheckpointManager::Open(
    const fs::path& root, CheckpointManagerOptions options) {
  STOWAGE_RETURN_IF_ERROR(ValidateOptions(options));
  auto state = std::make_unique<State>(root, WithDefaults(std::move(options)));
  STOWAGE_ASSIGN_OR_RETURN(state->checkpoints, ListEverywhere(*state, /*opening=*/true));
  return std::unique_ptr<CheckpointManager>(new CheckpointManager(std::move(state)));
}

bool CheckpointManager::ShouldSave(std::int64_t step) const {
  const State& s = *state_;
  if (s.options.read_only || step < 0) return false;
  std::optional<std::int64_t> latest;
  {
    std::lock_guard lock(s.mutex);
    if (!s.checkpoints.empty()) latest = s.checkpoints.back().step;
    if (s.saving_step && (!latest || *s.saving_step > *latest)) latest = s.saving_step;
  }
  if (!latest) return true;  // Orbax InitialSavePolicy
  if (*latest >= step) return false;
  std::int64_t interval = s.options.save_interval_steps;
  return (interval > 0 && step % interval == 0) || s.options.save_on_steps.contains(step);
}

Result<bool> CheckpointManager::Save(std::int64_t step, CompositeSaveArgs items,
                                     const StepSaveOptions& options) {
  State& s = *state_;
  STOWAGE_RETURN_IF_ERROR(CheckWritable(s, "Save"));
  if (step < 0) return InvalidArgumentError("cannot save negative step " + std::to_string(step));
  STOWAGE_RETURN_IF_ERROR(WaitUntilFinished());
  if (!options.force && !ShouldSave(step)) return false;
  {
    std::lock_guard lock(s.mutex);
    if (FindStep(s.checkpoints, step)) {
      return AlreadyExistsError("step " + std::to_string(step) + " already exists at " +
                                s.StepPath(step).string());
    }
  }
  if (options.metrics) {
    for (const auto& [name, item] : items.items) {
      if (name == kMetricsItemName) {
        return InvalidArgumentError("item name \"metrics\" is reserved for the step's metrics");
      }
    }
    items.items.emplace_back(std::string(kMetricsItemName), JsonSaveArgs{*options.metrics});
  }
  StepInfo info{.step = step, .time = s.options.clock(), .metrics = options.metrics};
  STOWAGE_ASSIGN_OR_RETURN(SavePlan plan, AgreeOnPlan(s, PlanOnPrimary(s, std::move(info))));
  CheckpointSaveOptions save_options{.force = false,
                                     .custom_metadata = options.custom_metadata,
                                     .fsync = s.options.handler.pytree.fsync,
                                     .clock = s.options.clock};
  {
    std::lock_guard lock(s.mutex);
    s.saving_step = step;
  }
  auto committed = s.checkpointer.AsyncSave(s.StepPath(step), std::move(items), save_options);
  if (!committed.has_value()) {
    std::lock_guard lock(s.mutex);
    s.saving_step.reset();
    return committed.error();
  }
  s.finalizer = std::thread([&s, committed = *committed, plan = std::move(plan)]() mutable {
    FinishSave(s, committed.Wait(), std::move(plan));
  });
  if (!s.options.async) STOWAGE_RETURN_IF_ERROR(WaitUntilFinished());
  return true;
}

Result<bool> CheckpointManager::Save(std::int64_t step, PyTreeSaveArgs tree,
                                     const StepSaveOptions& options) {
  CompositeSaveArgs items;
  items.items.emplace_back(std::string(kDefaultItemName), std::move(tree));
  return Save(step, std::move(items), options);
}

Status CheckpointManager::WaitUntilFinished() {
  State& s = *state_;
  if (s.finalizer.joinable()) s.finalizer.join();
  std::lock_guard lock(s.mutex);
  Status outcome = std::move(s.last_save);
  s.last_save = OkStatus();
  return outcome;
}

std::vector<std::int64_t> CheckpointManager::AllSteps() const {
  std::vector<std::int64_t> steps;
  for (const auto& info : Checkpoints()) steps.push_back(info.step);
  return steps;
}

std::optional<std::int64_t> CheckpointManager::LatestStep() const {
  std::lock_guard lock(state_->mutex);
  if (state_->checkpoints.empty()) return std::nullopt;
  return state_->checkpoints.back().step;
}

std::optional<std::int64_t> CheckpointManager::BestStep() const {
  return stowage::BestStep(Checkpoints(), state_->options.retention);
}

std::vector<StepInfo> CheckpointManager::Checkpoints() const {
  std::lock_guard lock(state_->mutex);
  return state_->checkpoints;
}

std::vector<KeepReason> CheckpointManager::RetentionView() const {
  return DecideRetention(Checkpoints(), state_->options.retention);
}

Result<std::map<std::string, CompositeItem>> CheckpointManager::Restore(
    std::int64_t step, const CompositeRestoreArgs& args) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (!FindStep(s.checkpoints, step)) {
      return NotFoundError("step " + std::to_string(step) + " not found under " + s.root.string() +
                           " (steps: " + StepList(s.checkpoints) + ")");
    }
  }
  fs::path path = s.StepPath(step);
  STOWAGE_RETURN_IF_ERROR(internal::CheckFinalized(path));
  return RestoreCompositeCheckpoint(path, args, s.options.handler.pytree);
}

Result<Tree> CheckpointManager::RestoreTree(std::int64_t step, std::string_view item) {
  CompositeRestoreArgs args{.items = {std::string(item)}};
  STOWAGE_ASSIGN_OR_RETURN(auto items, Restore(step, args));
  auto found = items.find(std::string(item));
  if (found == items.end()) {
    return NotFoundError("item \"" + std::string(item) + "\" not found in " +
                         StepPath(step).string());
  }
  if (auto* tree = std::get_if<Tree>(&found->second)) return std::move(*tree);
  return InvalidArgumentError("item \"" + std::string(item) + "\" of " + StepPath(step).string() +
                              " is JSON, not a tree");
}

Result<std::optional<ojson>> CheckpointManager::Metrics(std::int64_t step) const {
  std::lock_guard lock(state_->mutex);
  const StepInfo* info = FindStep(state_->checkpoints, step);
  if (!info) {
    return NotFoundError("step " + std::to_string(step) + " not found under " +
                         state_->root.string());
  }
  return info->metrics;
}

Result<ojson> CheckpointManager::RootCustomMetadata() const {
  return checkpoint::ReadRootCustomMetadata(state_->root);
}

Status CheckpointManager::Delete(std::int64_t step) {
  State& s = *state_;
  STOWAGE_RETURN_IF_ERROR(CheckWritable(s, "Delete"));
  STOWAGE_RETURN_IF_ERROR(WaitUntilFinished());
  {
    std::lock_guard lock(s.mutex);
    if (!FindStep(s.checkpoints, step)) {
      return NotFoundError("cannot delete step " + std::to_string(step) + ": not found under " +
                           s.root.string() + " (steps: " + StepList(s.checkpoints) + ")");
    }
  }
  Status deleted = s.primary() ? checkpoint::DeleteStepFolder(s.StepPath(step)) : OkStatus();
  if (!s.alone()) {
    deleted = checkpoint::ShareFromPrimary(s.coordinator(), "manager delete", deleted, s.timeout());
  }
  if (!deleted.has_value() && StepFolderExists(s, step, true)) return deleted;  // still there
  std::lock_guard lock(s.mutex);
  std::erase_if(s.checkpoints, [&](const StepInfo& info) { return info.step == step; });
  return deleted;
}

Status CheckpointManager::Reload() {
  State& s = *state_;
  STOWAGE_RETURN_IF_ERROR(WaitUntilFinished());
  STOWAGE_ASSIGN_OR_RETURN(auto listed, ListEverywhere(s, /*opening=*/false));
  std::lock_guard lock(s.mutex);
  s.checkpoints = std::move(listed);
  return OkStatus();
}

Status CheckpointManager::Close() {
  Status outcome = WaitUntilFinished();
  std::lock_guard lock(state_->mutex);
  state_->closed = true;
  return outcome;
}

const fs::path& CheckpointManager::directory() const { return state_->root; }

fs::path CheckpointManager::StepPath(std::int64_t step) const { return state_->StepPath(step); }

}  // namespace stowage
