// Every file and directory name stowage reads or writes in a checkpoint, as
// Orbax names them (orbax `_src/path/atomicity.py`, `_src/metadata/*`,
// `_src/handlers/base_pytree_checkpoint_handler.py`).
#pragma once

#include <filesystem>
#include <string_view>

namespace stowage::checkpoint {

inline constexpr std::string_view kTreeMetadataFile = "_METADATA";
inline constexpr std::string_view kCheckpointMetadataFile = "_CHECKPOINT_METADATA";
inline constexpr std::string_view kCommitSuccessFile = "commit_success.txt";
inline constexpr std::string_view kShardingFile = "_sharding";
inline constexpr std::string_view kArrayMetadatasDir = "array_metadatas";
inline constexpr std::string_view kOcdbtManifestFile = "manifest.ocdbt";
// Each process's own OCDBT database while saving (Orbax
// `ocdbt_utils.PROCESS_SUBDIR_PREFIX`); the root database merges them.
inline constexpr std::string_view kOcdbtProcessDirPrefix = "ocdbt.process_";
inline constexpr std::string_view kLegacyAggregateFile = "checkpoint";

// Orbax's temporary-directory marker: `<name>.orbax-checkpoint-tmp` (older
// releases appended a timestamp or counter; any name containing it is
// unfinished).
inline constexpr std::string_view kTmpDirMarker = ".orbax-checkpoint-tmp";

// The temporary sibling a save of `final_dir` is written into.
std::filesystem::path TemporaryDirFor(const std::filesystem::path& final_dir);

// The directory a save of `final_dir` writes into: the temporary sibling on
// a filesystem, `final_dir` itself on an object store (which has no rename;
// `commit_success.txt` marks the commit there, as Orbax does on GCS).
std::filesystem::path WorkingDirFor(const std::filesystem::path& final_dir);

// True when `dir`'s name marks an unfinished save.
bool IsTemporaryDir(const std::filesystem::path& dir);

// `dir` without a trailing separator, lexically normalised.
std::filesystem::path NormalizeDir(const std::filesystem::path& dir);

}  // namespace stowage::checkpoint
