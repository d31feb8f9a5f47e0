// stowage layer: checkpoint
//
// Restoring composite checkpoints: one subdirectory per item, as Orbax's
// CompositeCheckpointHandler writes them (orbax
// `_src/handlers/composite_checkpoint_handler.py`), with the item handlers
// named in `_CHECKPOINT_METADATA` (`{"item": "<handler typestr>"}`). PyTree and
// Standard items restore as Trees, JSON items (JsonCheckpointHandler:
// `<item>/<item>` or `<item>/metadata`; v1 JsonHandler: `<item>/data.json`)
// as JSON. Saving composites is not implemented yet.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "stowage/tree.h"

namespace stowage {

using CompositeItem = std::variant<Tree, nlohmann::ordered_json>;

struct CompositeRestoreArgs {
  // The items to restore; empty: every item of a kind stowage reads (items
  // of other handlers are skipped).
  std::vector<std::string> items;
};

// Restores the items of the composite checkpoint at `directory`. Without
// `_CHECKPOINT_METADATA` the kind of each subdirectory is recognised from
// its files. Errors: kNotFound (directory, or a requested item, named),
// kUnsupported (a requested item of a handler stowage does not know, named
// with its typestr), and those of the item restores.
Result<std::map<std::string, CompositeItem>> RestoreCompositeCheckpoint(
    const std::filesystem::path& directory, const CompositeRestoreArgs& args = {});

}  // namespace stowage
