// The atomic save on an object store, which cannot rename (Orbax's
// CommitFileTemporaryPath, its default on GCS): the save writes straight
// into `<dir>`, and `commit_success.txt`, written last, is what makes it a
// checkpoint. Readers and the manager take a directory without it for an
// unfinished save and never read it.
//
// Steps and what a crash between them leaves:
//   Begin:  when `<dir>` holds a committed checkpoint and the save forces a
//           replacement, delete its `commit_success.txt` first (from then on
//           it reads as unfinished), then every object under `<dir>`; also
//           remove an unfinished save's leftovers. Write the initial
//           `_CHECKPOINT_METADATA`.
//   Commit: rewrite `_CHECKPOINT_METADATA` with the commit timestamp, then
//           write `commit_success.txt`. Until that last PUT succeeds nothing
//           at `<dir>` counts as a checkpoint.
// Unlike the rename on a filesystem, a forced replacement cannot keep the
// previous checkpoint readable while the new one is written.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "stowage/checkpointer.h"

namespace stowage::checkpoint {

// Begin, above. Errors: kAlreadyExists (a committed checkpoint at `dir` and
// !options.force), those of the store.
Status BeginCommitFileSave(const std::filesystem::path& dir, const CheckpointSaveOptions& options,
                           std::int64_t init_nanos);

// Commit, above.
Status CommitCommitFileSave(const std::filesystem::path& dir,
                            const nlohmann::ordered_json& item_handlers,
                            const CheckpointSaveOptions& options, std::int64_t commit_nanos);

// OK when `dir` holds a committed checkpoint, or is an item folder of one.
// Errors: kNotFound (nothing there), kInvalidArgument (an unfinished save).
Status CheckCommitFile(const std::filesystem::path& dir);

}  // namespace stowage::checkpoint
