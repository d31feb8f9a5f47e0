#include "checkpoint/commit_file_save.h"

#include "base/bytes.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/layout.h"
#include "stowage/directory.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;

namespace {

Status WriteMetadata(kvstore::Store& store, const CheckpointMetadata& metadata) {
  return store.Write(kCheckpointMetadataFile, AsBytes(EncodeCheckpointMetadata(metadata)),
                     {.atomic = true});
}

}  // namespace

Status BeginCommitFileSave(const fs::path& dir, const CheckpointSaveOptions& options,
                           std::int64_t init_nanos) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(dir));
  STOWAGE_ASSIGN_OR_RETURN(bool committed, store->Exists(kCommitSuccessFile));
  if (committed) {
    if (!options.force) {
      return AlreadyExistsError("destination " + dir.string() + " already exists");
    }
    STOWAGE_RETURN_IF_ERROR(store->Delete(kCommitSuccessFile));  // un-commit first
  }
  STOWAGE_RETURN_IF_ERROR(store->DeleteAll(""));  // the old checkpoint, or a crashed save
  CheckpointMetadata metadata;
  metadata.init_timestamp_nsecs = init_nanos;
  return WriteMetadata(*store, metadata);
}

Status CommitCommitFileSave(const fs::path& dir, const nlohmann::ordered_json& item_handlers,
                            const CheckpointSaveOptions& options, std::int64_t commit_nanos) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(dir));
  STOWAGE_ASSIGN_OR_RETURN(CheckpointMetadata metadata, ReadCheckpointMetadata(dir));
  metadata.item_handlers = item_handlers;
  metadata.custom_metadata = options.custom_metadata;
  metadata.commit_timestamp_nsecs = commit_nanos;
  STOWAGE_RETURN_IF_ERROR(WriteMetadata(*store, metadata));
  std::string success = "Checkpoint commit was successful to " + dir.string();
  return store->Write(kCommitSuccessFile, AsBytes(success));
}

Status CheckCommitFile(const fs::path& dir) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(dir));
  STOWAGE_ASSIGN_OR_RETURN(bool committed, store->Exists(kCommitSuccessFile));
  if (committed) return OkStatus();
  STOWAGE_ASSIGN_OR_RETURN(bool exists, kvstore::DirectoryExists(dir));
  if (!exists) return NotFoundError("checkpoint at " + dir.string() + " not found");
  // An item of a committed composite checkpoint (a manager step's `default`).
  if (dir.has_parent_path() && kvstore::IsObjectStoreUrl(dir.parent_path())) {
    STOWAGE_ASSIGN_OR_RETURN(auto parent, kvstore::OpenDirectory(dir.parent_path()));
    STOWAGE_ASSIGN_OR_RETURN(bool parent_committed, parent->Exists(kCommitSuccessFile));
    if (parent_committed) return OkStatus();
  }
  return InvalidArgumentError("found incomplete checkpoint at " + dir.string() + " (no " +
                              std::string(kCommitSuccessFile) + ")");
}

}  // namespace stowage::checkpoint
