// stowage layer: checkpoint
//
// StandardCheckpointHandler: Orbax's handler for trees of arrays and scalars
// (orbax `_src/handlers/standard_checkpoint_handler.py`). It saves and
// restores exactly as PyTreeCheckpointHandler does, but refuses what Orbax's
// refuses (a single array or scalar instead of a tree, string leaves) and
// records its own typestr in `_CHECKPOINT_METADATA`.
// Thread safety: one save or restore at a time per handler.
#pragma once

#include <chrono>
#include <filesystem>
#include <string_view>
#include <vector>

#include "stowage/pytree_checkpoint_handler.h"

namespace stowage {

class StandardCheckpointHandler {
 public:
  using SaveArgsType = PyTreeSaveArgs;        // Orbax `StandardSave`
  using RestoreArgsType = PyTreeRestoreArgs;  // Orbax `StandardRestore`
  using Restored = Tree;

  // Orbax's typestr for this handler, written to `_CHECKPOINT_METADATA`.
  static constexpr std::string_view kTypestr =
      "orbax.checkpoint._src.handlers.standard_checkpoint_handler.StandardCheckpointHandler";

  explicit StandardCheckpointHandler(PyTreeCheckpointHandlerOptions options = {});

  // PyTreeCheckpointHandler::AsyncSave, after checking the item. Errors
  // (before anything is written): kInvalidArgument (the item is a single
  // leaf or None, or holds a string leaf, named by its param name), and
  // those of PyTreeCheckpointHandler::AsyncSave.
  Result<std::vector<Future<void>>> AsyncSave(const std::filesystem::path& directory,
                                              PyTreeSaveArgs args);

  // AsyncSave, then waits for every commit future.
  Status Save(const std::filesystem::path& directory, PyTreeSaveArgs args);

  // PyTreeCheckpointHandler::Restore.
  Result<Tree> Restore(const std::filesystem::path& directory,
                       const PyTreeRestoreArgs& args = {}) const;

  // Kept for the Orbax protocol (nothing left to do).
  Status Finalize(const std::filesystem::path& directory);
  void Close();

  const PyTreeCheckpointHandlerOptions& options() const { return pytree_.options(); }
  // The processes saving together, and how long a collective step may wait.
  Coordinator& coordinator() const { return pytree_.coordinator(); }
  std::chrono::milliseconds collective_timeout() const { return pytree_.collective_timeout(); }

 private:
  PyTreeCheckpointHandler pytree_;
};

}  // namespace stowage
