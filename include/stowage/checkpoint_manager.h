// stowage layer: checkpoint
//
// CheckpointManager: a series of checkpoints, one per training step, under one
// root directory, as Orbax's CheckpointManager keeps them (orbax
// `checkpoint_manager.py`, `_src/path/step.py`,
// `_src/checkpoint_managers/preservation_policy.py`), so that either side can
// continue the other's run:
//
//   <root>/<step>/                    one composite checkpoint per step
//   <root>/<step>/<item>/             an item (a tree: PyTree layout; or JSON)
//   <root>/<step>/metrics/metrics     the step's metrics, as JSON
//   <root>/<step>/_CHECKPOINT_METADATA
//   <root>/metadata/_ROOT_METADATA    the manager's custom metadata, if any
//
// A step folder is named `[<prefix>_]<step>` (zero padded to a fixed length
// if asked). Each step is saved atomically (stowage/checkpointer.h): until
// its commit, only `<step>.orbax-checkpoint-tmp` exists, which is never
// listed and is removed when a manager opens the root.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/composite_checkpoint_handler.h"
#include "stowage/error.h"
#include "stowage/tree.h"

namespace stowage {

// Orbax's DEFAULT_ITEM_NAME: the item a single-item save goes to.
inline constexpr std::string_view kDefaultItemName = "default";
// The item holding a step's metrics (`<step>/metrics/metrics`).
inline constexpr std::string_view kMetricsItemName = "metrics";

// Which way a better metric goes.
enum class BestMode { kMin, kMax };

// The score of one step's metrics (the JSON object given to Save); larger is
// better under BestMode::kMax.
using BestFn = std::function<double(const nlohmann::ordered_json& metrics)>;

// A BestFn reading the number `metrics[name]`; a step whose metrics lack it
// (or hold no number there) scores NaN and ranks below every other.
BestFn MetricNamed(std::string name);

// What is kept when a new step commits. Every rule keeps what it names; a
// step survives if any rule keeps it. Unlike Orbax, the latest step and the
// best step are always kept, whatever the rules say.
struct RetentionOptions {
  // Keep the newest N steps (or, with best_fn, the best N). Unset: keep all.
  std::optional<std::int64_t> max_to_keep;
  // Also keep, from the oldest kept step on, the first step at least this
  // long after the previous one kept this way (Orbax keep_time_interval).
  std::optional<std::chrono::seconds> keep_time_interval;
  // Also keep every step that is a multiple of this (Orbax keep_period).
  std::optional<std::int64_t> keep_period;
  // Rank steps by their metrics instead of by recency.
  BestFn best_fn;
  BestMode best_mode = BestMode::kMax;
  // With best_fn: steps saved without metrics are never deleted.
  bool keep_checkpoints_without_metrics = true;
};

// What the manager knows about one committed step.
struct StepInfo {
  std::int64_t step = 0;
  // When it committed: `_CHECKPOINT_METADATA`'s commit timestamp (by the
  // manager's clock), or its folder's mtime. A retention decision taken
  // when a save starts sees the new step at the time Save was called.
  std::chrono::system_clock::time_point time;
  // The metrics saved with it, or none.
  std::optional<nlohmann::ordered_json> metrics;
};

// Why a step is kept (a bit set).
enum class KeepReason : std::uint8_t {
  kNone = 0,
  kLatest = 1,           // the newest step
  kBest = 2,             // the best by best_fn
  kMaxToKeep = 4,        // among the newest (or best) max_to_keep
  kKeepPeriod = 8,       // a multiple of keep_period
  kTimeInterval = 16,    // keep_time_interval apart from the previous one kept
  kWithoutMetrics = 32,  // saved without metrics, under keep_checkpoints_without_metrics
  kNoPolicy = 64,        // max_to_keep unset: everything is kept
};
constexpr KeepReason operator|(KeepReason a, KeepReason b) {
  return static_cast<KeepReason>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool Has(KeepReason set, KeepReason reason) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(reason)) != 0;
}
// "latest, best, keep_period": the reasons, comma separated ("" for kNone).
std::string KeepReasonNames(KeepReason reasons);

// The retention decision over `checkpoints` (sorted by increasing step): one
// entry per checkpoint, kNone for those to delete. Deterministic: depends
// only on its arguments.
std::vector<KeepReason> DecideRetention(const std::vector<StepInfo>& checkpoints,
                                        const RetentionOptions& options);

// The step with the best metrics (ties: the later step), or, without
// best_fn, the latest; none if no step qualifies.
std::optional<std::int64_t> BestStep(const std::vector<StepInfo>& checkpoints,
                                     const RetentionOptions& options);

// How step folders are named: `[<prefix>_]<step>`, zero padded to
// `fixed_length` digits if set (Orbax step_prefix, step_format_fixed_length).
struct StepNameFormat {
  std::string prefix;
  std::optional<int> fixed_length;

  std::string Name(std::int64_t step) const;
  // The step a folder name stands for, or none (other files, temporaries).
  std::optional<std::int64_t> Parse(std::string_view name) const;
};

struct CheckpointManagerOptions {
  // should_save: steps that are multiples of this, and the first step saved.
  std::int64_t save_interval_steps = 1;
  // should_save: these steps too.
  std::set<std::int64_t> save_on_steps;
  RetentionOptions retention;
  StepNameFormat step_names;
  // Create the root if it does not exist (else kNotFound).
  bool create = true;
  // Save, restore and delete only; never write (no cleanup, saves refused).
  bool read_only = false;
  // Save returns after the snapshot; the commit and retention run in the
  // background (Orbax enable_async_checkpointing).
  bool async = true;
  // How items are saved (tree options, including the processes saving
  // together: handler.pytree.coordinator) and restored.
  CompositeCheckpointHandlerOptions handler;
  // Written once to `<root>/metadata/_ROOT_METADATA` if not already there
  // (Orbax's `metadata=` argument); null: nothing is written.
  nlohmann::ordered_json root_custom_metadata;
  // The clock stamping saved steps: the time Save is called (what the
  // retention decision of that save sees) and the commit timestamps of
  // `_CHECKPOINT_METADATA` (a step's time once committed). Tests may replace it.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// Per-save options (Orbax save(step, args, metrics, force, custom_metadata)).
struct StepSaveOptions {
  // Stored in `<step>/metrics/metrics`; what best_fn ranks.
  std::optional<nlohmann::ordered_json> metrics;
  // Save even if ShouldSave(step) is false (never over an existing step).
  bool force = false;
  // Stored as `_CHECKPOINT_METADATA`'s custom_metadata.
  nlohmann::ordered_json custom_metadata = nlohmann::ordered_json::object();
};

// Thread safety: Save, WaitUntilFinished, Delete, Reload and Close are
// called from one thread at a time; the queries (AllSteps, LatestStep,
// BestStep, Checkpoints, RetentionView, Metrics, ShouldSave) and restores
// from any thread.
class CheckpointManager {
 public:
  // Opens (or with options.create, creates) the manager root at `root`,
  // removes temporaries left by crashed saves (unless read_only) and lists
  // the committed steps. With several processes (a coordinator in
  // options.handler.pytree), every process opens the same root; process 0
  // lists and cleans, the others learn its list. Errors: kNotFound (no root
  // and !create), kInvalidArgument (bad options), kDataLoss (a step's
  // metadata or metrics unreadable), kIo.
  static Result<std::unique_ptr<CheckpointManager>> Open(const std::filesystem::path& root,
                                                         CheckpointManagerOptions options = {});
  // Waits for the save in flight (errors are dropped: call Close to see them).
  ~CheckpointManager();
  CheckpointManager(const CheckpointManager&) = delete;
  CheckpointManager& operator=(const CheckpointManager&) = delete;

  // True if `step` is after the latest step and due: a multiple of
  // save_interval_steps, one of save_on_steps, or the first save.
  bool ShouldSave(std::int64_t step) const;

  // Saves `items` as step `step` if ShouldSave(step) (or options.force) and
  // returns whether it did. Waits for the previous save to commit first; with
  // options.async, returns after the snapshot and commits in the background,
  // then applies retention (deletion happens only after the commit). Every
  // process calls Save with its part. Errors: kAlreadyExists (the step
  // exists), kInvalidArgument (bad items, read_only), the previous save's
  // error, those of the items' handlers.
  Result<bool> Save(std::int64_t step, CompositeSaveArgs items,
                    const StepSaveOptions& options = {});
  // Saves one tree as the item "default" (Orbax's single-item manager).
  Result<bool> Save(std::int64_t step, PyTreeSaveArgs tree, const StepSaveOptions& options = {});

  // Waits for the save in flight (commit and retention) and returns its
  // outcome. A failed save deletes nothing and leaves no step: a commit that
  // failed after the step's folder was in place (its final fsync) is rolled
  // back, and only if that fails too does the step stay, listed. A step that
  // retention could not delete stays listed (the error names it).
  Status WaitUntilFinished();

  // The committed steps, ascending (a save in flight appears once it has
  // committed).
  std::vector<std::int64_t> AllSteps() const;
  std::optional<std::int64_t> LatestStep() const;
  // The best step by retention.best_fn (without it, the latest).
  std::optional<std::int64_t> BestStep() const;
  // What the manager knows about every committed step, ascending.
  std::vector<StepInfo> Checkpoints() const;
  // The retention decision the next commit would apply, over the steps now
  // committed: why each is kept (kNone: it would be deleted).
  std::vector<KeepReason> RetentionView() const;

  // Restores items of step `step` (all by default). Errors: kNotFound (no
  // such step), those of RestoreCompositeCheckpoint.
  Result<std::map<std::string, CompositeItem>> Restore(std::int64_t step,
                                                       const CompositeRestoreArgs& args = {});
  // Restores the tree item `item` of step `step`. Errors: as Restore, and
  // kInvalidArgument if the item is JSON.
  Result<Tree> RestoreTree(std::int64_t step, std::string_view item = kDefaultItemName);
  // The metrics saved with step `step`, if any. Errors: kNotFound.
  Result<std::optional<nlohmann::ordered_json>> Metrics(std::int64_t step) const;
  // `<root>/metadata/_ROOT_METADATA`'s custom_metadata (null if absent).
  Result<nlohmann::ordered_json> RootCustomMetadata() const;

  // Deletes step `step` (waits for the save in flight). The step disappears
  // atomically (renamed to a temporary first), so a crash never leaves half
  // of it looking committed. Errors: kNotFound, kInvalidArgument (read_only).
  Status Delete(std::int64_t step);
  // Lists the root again (for changes made by others).
  Status Reload();
  // Waits for the save in flight and returns its outcome; later saves fail.
  Status Close();

  const std::filesystem::path& directory() const;
  // `<root>/<step name>`.
  std::filesystem::path StepPath(std::int64_t step) const;

 private:
  struct State;
  explicit CheckpointManager(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace stowage
