// The atomic directory commit behind Checkpointer and AsyncCheckpointer.
//
// Steps and what a crash between them leaves:
//   Begin:  remove a stale `<dir>.orbax-checkpoint-tmp`, create it, write the
//           initial `_CHECKPOINT_METADATA`. A crash leaves only the temporary
//           directory (never read as a checkpoint; removed by the next save).
//   Commit: rewrite `_CHECKPOINT_METADATA` with the commit timestamp, write
//           `commit_success.txt`, fsync the whole temporary tree, then
//           rename the temporary directory to `<dir>` (when replacing, swap
//           the two in one atomic exchange), fsync the parent, and remove
//           the old copy. A crash at any step leaves `<dir>` holding the
//           previous checkpoint or the new, complete one. Where the
//           filesystem cannot exchange, `<dir>` is renamed aside to
//           `<dir>.stowage-replaced` first, and the next save puts it back
//           if a crash came before the new one was in place.
// On an object store (s3://) the commit is a file instead of a rename:
// commit_file_save.h.

#include "base/bytes.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/commit_file_save.h"
#include "checkpoint/layout.h"
#include "kvstore/file_ops.h"
#include "stowage/checkpointer.h"
#include "stowage/directory.h"

namespace stowage::internal {
namespace fs = std::filesystem;
using checkpoint::CheckpointMetadata;

namespace {

// Nanoseconds since the Unix epoch by the save's clock.
std::int64_t NowNanos(const CheckpointSaveOptions& options) {
  if (!options.clock) return checkpoint::NowNanos();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(options.clock().time_since_epoch())
      .count();
}

bool Sync(const CheckpointSaveOptions& options) {
  return options.fsync != kvstore::FsyncPolicy::kNone;
}

Status WriteCheckpointMetadata(const fs::path& dir, const CheckpointMetadata& metadata, bool sync) {
  return kvstore::WriteFileAtomically(dir / checkpoint::kCheckpointMetadataFile,
                                      AsBytes(checkpoint::EncodeCheckpointMetadata(metadata)),
                                      sync);
}

fs::path ReplacedPathOf(const fs::path& dir) {
  fs::path replaced = dir;
  replaced += ".stowage-replaced";
  return replaced;
}

Status SyncParent(const fs::path& dir) {
  return kvstore::SyncDirectory(dir.parent_path().empty() ? fs::path(".") : dir.parent_path());
}

// Replaces the checkpoint `dir` by `temporary` where the filesystem cannot
// swap them: `dir` goes aside to `<dir>.stowage-replaced` first, and
// RecoverReplaced puts it back if a crash comes before the second rename.
Status ReplaceInTwoRenames(const fs::path& temporary, const fs::path& dir, bool sync) {
  fs::path replaced = ReplacedPathOf(dir);
  STOWAGE_RETURN_IF_ERROR(kvstore::RemoveAll(replaced));
  STOWAGE_RETURN_IF_ERROR(kvstore::Rename(dir, replaced));
  STOWAGE_RETURN_IF_ERROR(kvstore::Rename(temporary, dir));
  if (sync) STOWAGE_RETURN_IF_ERROR(SyncParent(dir));
  return kvstore::RemoveAll(replaced);
}

// Moves the committed temporary directory into place. A previous checkpoint
// at `dir` is swapped with it in one atomic exchange, so `dir` always holds
// the old or the new checkpoint, then removed from the temporary path.
Status MoveIntoPlace(const fs::path& temporary, const fs::path& dir, bool force, bool sync) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    STOWAGE_RETURN_IF_ERROR(kvstore::Rename(temporary, dir));
    return sync ? SyncParent(dir) : OkStatus();
  }
  if (!force) return AlreadyExistsError("destination " + dir.string() + " already exists");
  STOWAGE_ASSIGN_OR_RETURN(bool exchanged, kvstore::Exchange(temporary, dir));
  if (!exchanged) return ReplaceInTwoRenames(temporary, dir, sync);
  if (sync) STOWAGE_RETURN_IF_ERROR(SyncParent(dir));
  return kvstore::RemoveAll(temporary);  // now the previous checkpoint
}

// After a crash between the two renames of ReplaceInTwoRenames, `dir` is
// absent and the previous checkpoint is at `<dir>.stowage-replaced`: put it
// back. Otherwise a leftover `<dir>.stowage-replaced` is removed.
Status RecoverReplaced(const fs::path& dir) {
  fs::path replaced = ReplacedPathOf(dir);
  std::error_code ec;
  if (!fs::exists(replaced, ec)) return OkStatus();
  if (fs::exists(dir, ec)) return kvstore::RemoveAll(replaced);
  return kvstore::Rename(replaced, dir);
}

}  // namespace

Result<fs::path> BeginAtomicSave(const fs::path& directory, const CheckpointSaveOptions& options) {
  fs::path dir = checkpoint::NormalizeDir(directory);
  if (kvstore::IsObjectStoreUrl(dir)) {
    STOWAGE_RETURN_IF_ERROR(checkpoint::BeginCommitFileSave(dir, options, NowNanos(options)));
    return dir;
  }
  STOWAGE_RETURN_IF_ERROR(RecoverReplaced(dir));
  std::error_code ec;
  if (fs::exists(dir, ec) && !options.force) {
    return AlreadyExistsError("destination " + dir.string() + " already exists");
  }
  fs::path temporary = checkpoint::TemporaryDirFor(dir);
  STOWAGE_RETURN_IF_ERROR(kvstore::RemoveAll(temporary));  // a crashed save's leftovers
  STOWAGE_RETURN_IF_ERROR(kvstore::CreateDirectories(temporary));
  CheckpointMetadata metadata;
  metadata.init_timestamp_nsecs = NowNanos(options);
  STOWAGE_RETURN_IF_ERROR(WriteCheckpointMetadata(temporary, metadata, false));
  return temporary;
}

Status CommitAtomicSave(const fs::path& temporary, const fs::path& directory,
                        const nlohmann::ordered_json& item_handlers,
                        const CheckpointSaveOptions& options) {
  fs::path dir = checkpoint::NormalizeDir(directory);
  if (kvstore::IsObjectStoreUrl(dir)) {
    return checkpoint::CommitCommitFileSave(dir, item_handlers, options, NowNanos(options));
  }
  STOWAGE_ASSIGN_OR_RETURN(CheckpointMetadata metadata,
                           checkpoint::ReadCheckpointMetadata(temporary));
  metadata.item_handlers = item_handlers;
  metadata.custom_metadata = options.custom_metadata;
  metadata.commit_timestamp_nsecs = NowNanos(options);
  STOWAGE_RETURN_IF_ERROR(WriteCheckpointMetadata(temporary, metadata, false));
  std::string success = "Checkpoint commit was successful to " + dir.string();
  STOWAGE_RETURN_IF_ERROR(
      kvstore::WriteFile(temporary / checkpoint::kCommitSuccessFile, AsBytes(success), false));
  if (Sync(options)) STOWAGE_RETURN_IF_ERROR(kvstore::SyncTree(temporary));
  return MoveIntoPlace(temporary, dir, options.force, Sync(options));
}

void AbandonAtomicSave(const fs::path& temporary) { (void)kvstore::RemoveDirectory(temporary); }

Status CheckFinalized(const fs::path& directory) {
  if (kvstore::IsObjectStoreUrl(directory)) return checkpoint::CheckCommitFile(directory);
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return NotFoundError("checkpoint at " + directory.string() + " not found");
  }
  if (checkpoint::IsTemporaryDir(directory)) {
    return InvalidArgumentError("found incomplete checkpoint at " + directory.string());
  }
  return OkStatus();
}

}  // namespace stowage::internal
