// stowage layer: checkpoint
//
// Composite checkpoints: one subdirectory per item, as Orbax's
// CompositeCheckpointHandler writes them (orbax
// `_src/handlers/composite_checkpoint_handler.py`), with the item handlers
// named in `_CHECKPOINT_METADATA` (`{"item": "<handler typestr>"}`, written
// by a Checkpointer). stowage saves PyTree items (`<item>/`, as
// PyTreeCheckpointHandler lays it out) and JSON items (`<item>/<filename>`,
// JsonCheckpointHandler; "metadata" by default) in Orbax's v0 layout, which
// Orbax's v0 and v1 APIs both read. It restores PyTree and Standard items as
// Trees and JSON items (`<item>/<item>`, `<item>/metadata`, v1
// `<item>/data.json`) as JSON.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "stowage/json_checkpoint_handler.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "stowage/tree.h"

namespace stowage {

using CompositeItem = std::variant<Tree, nlohmann::ordered_json>;

struct CompositeRestoreArgs {
  // The items to restore; empty: every listed item of a handler stowage
  // reads (items of other handlers are skipped), plus unlisted
  // subdirectories holding a PyTree.
  std::vector<std::string> items;
};

// Restores the items of the composite checkpoint at `directory`. Without
// `_CHECKPOINT_METADATA` the kind of each subdirectory is recognised from
// its files. Errors: kNotFound (directory, a requested or listed item's
// folder, or the `_CHECKPOINT_METADATA` a v1 checkpoint requires, named),
// kInvalidArgument (a single-PyTree checkpoint, which has no named items),
// kUnsupported (a requested item of a handler stowage does not know, named
// with its typestr), and those of the item restores.
// Tree items restore through a PyTreeCheckpointHandler with `tree_options`.
Result<std::map<std::string, CompositeItem>> RestoreCompositeCheckpoint(
    const std::filesystem::path& directory, const CompositeRestoreArgs& args = {},
    const PyTreeCheckpointHandlerOptions& tree_options = {});

// One item of a composite save: a tree (PyTreeCheckpointHandler) or a JSON
// value (JsonCheckpointHandler).
using CompositeSaveItem = std::variant<PyTreeSaveArgs, JsonSaveArgs>;

// Orbax `Composite(name=args, ...)`.
struct CompositeSaveArgs {
  std::vector<std::pair<std::string, CompositeSaveItem>> items;
};

struct CompositeCheckpointHandlerOptions {
  // How tree items are saved.
  PyTreeCheckpointHandlerOptions pytree;
  // The file each JSON item is written to, inside its folder.
  std::string json_filename = "metadata";
  // Other files for particular JSON items, by item name (a manager's
  // "metrics" item is written to `metrics/metrics`).
  std::map<std::string, std::string> json_filenames;
};

class CompositeCheckpointHandler {
 public:
  using SaveArgsType = CompositeSaveArgs;
  using RestoreArgsType = CompositeRestoreArgs;
  using Restored = std::map<std::string, CompositeItem>;

  static constexpr std::string_view kTypestr =
      "orbax.checkpoint._src.handlers.composite_checkpoint_handler.CompositeCheckpointHandler";

  explicit CompositeCheckpointHandler(CompositeCheckpointHandlerOptions options = {});

  // Snapshots every item and starts writing each into `<directory>/<name>/`;
  // the futures finish when all are written. Errors: kInvalidArgument
  // before anything is written (no items, a duplicate name, a name that is
  // not one plain path component or is one of the checkpoint's own files);
  // those of the items' handlers, after waiting for the items already
  // started (a Checkpointer then discards the whole directory).
  Result<std::vector<Future<void>>> AsyncSave(const std::filesystem::path& directory,
                                              CompositeSaveArgs args);
  Status Save(const std::filesystem::path& directory, CompositeSaveArgs args);

  // RestoreCompositeCheckpoint.
  Result<Restored> Restore(const std::filesystem::path& directory,
                           const CompositeRestoreArgs& args = {}) const;

  // The `_CHECKPOINT_METADATA.item_handlers` of the last save: item name ->
  // handler typestr, sorted by name as Orbax writes it.
  nlohmann::ordered_json ItemHandlers() const;

  // Kept for the Orbax protocol (nothing left to do).
  Status Finalize(const std::filesystem::path& directory);
  void Close();

  // The processes saving together (options.pytree.coordinator; JSON items
  // are written by process 0), and how long a collective step may wait.
  Coordinator& coordinator() const { return pytree_.coordinator(); }
  std::chrono::milliseconds collective_timeout() const { return pytree_.collective_timeout(); }

 private:
  CompositeCheckpointHandlerOptions options_;
  PyTreeCheckpointHandler pytree_;
  std::map<std::string, std::string> item_handlers_;
};

}  // namespace stowage
