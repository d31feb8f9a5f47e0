// The atomic commit when several processes save one checkpoint (Orbax's
// checkpointer barriers `create_tmp_directory`, `async_write_complete`,
// `async_commit_complete`): the primary process creates and commits the
// temporary directory, the others follow its outcome, and a failure on any
// process stops the commit everywhere.
#include "checkpoint/collective.h"
#include "checkpoint/layout.h"
#include "stowage/checkpointer.h"

namespace stowage::internal {
namespace fs = std::filesystem;

namespace {

bool IsPrimary(const SaveGroup& group) {
  return group.coordinator == nullptr ||
         group.coordinator->process_index() == checkpoint::kPrimaryProcess;
}

}  // namespace

Result<fs::path> BeginGroupSave(const fs::path& directory, const CheckpointSaveOptions& options,
                                const SaveGroup& group) {
  if (group.coordinator == nullptr) return BeginAtomicSave(directory, options);
  Result<fs::path> begun = checkpoint::WorkingDirFor(directory);
  if (IsPrimary(group)) begun = BeginAtomicSave(directory, options);
  Status local = begun.has_value() ? OkStatus() : Status(begun.error());
  STOWAGE_RETURN_IF_ERROR(checkpoint::ShareFromPrimary(*group.coordinator, "create_tmp_directory",
                                                       local, group.timeout));
  return begun;
}

Status CommitGroupSave(const fs::path& temporary, const fs::path& directory,
                       const nlohmann::ordered_json& item_handlers,
                       const CheckpointSaveOptions& options, const SaveGroup& group,
                       const Status& written) {
  Status status = written;
  if (group.coordinator != nullptr) {
    status = checkpoint::AgreeOnStatus(*group.coordinator, "async_write_complete", written,
                                       group.timeout);
  }
  if (IsPrimary(group)) {
    if (status.has_value()) status = CommitAtomicSave(temporary, directory, item_handlers, options);
    if (!status.has_value()) AbandonAtomicSave(temporary);
  }
  if (group.coordinator == nullptr) return status;
  // Everyone learns whether the primary committed (its error, or kAborted).
  Status shared = checkpoint::ShareFromPrimary(*group.coordinator, "async_commit_complete", status,
                                               group.timeout);
  return !written.has_value() ? written : shared;
}

}  // namespace stowage::internal
