// Restoring composite checkpoints (see composite_checkpoint_handler.h). What
// counts as an item, following Orbax's v0 reading semantics plus its v1
// layout rule:
//   - `_CHECKPOINT_METADATA.item_handlers` as a dict lists the items; a
//     typestr there (or, without one, `_METADATA`/`manifest.ocdbt`/`checkpoint`
//     in the directory itself) marks a direct single-PyTree checkpoint, which
//     has no named items (kInvalidArgument).
//   - Without item_handlers every subdirectory is an item, its kind
//     recognised from its files. With them, an unlisted subdirectory is an
//     item too when it holds a PyTree: restoring every item then includes it,
//     as Orbax's loading of all checkpointables does.
//   - A v1 checkpoint (marked by the file `orbax.checkpoint`) requires
//     `_CHECKPOINT_METADATA`, as Orbax's v1 API does (kNotFound).
//   - Restoring every item skips items of handlers stowage does not know
//     (e.g. v1 `descriptor`, whose folder Orbax deletes), but a listed item of
//     a known handler whose folder is gone is kNotFound.
#include <algorithm>
#include <optional>
#include <span>
#include <string_view>

#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/composite_layout.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"
#include "stowage/composite_checkpoint_handler.h"
#include "stowage/json_checkpoint_handler.h"
#include "stowage/pytree_checkpoint_handler.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

Result<nlohmann::ordered_json> ReadJsonItem(const fs::path& item_dir) {
  auto file = checkpoint::JsonFileOf(item_dir);
  if (!file) return NotFoundError(item_dir.string() + " holds no JSON item file");
  return ReadJsonFile(*file);
}

// `_CHECKPOINT_METADATA`'s item_handlers: {item: typestr}, a typestr, or
// null (file or member absent; a malformed file of a v0 checkpoint counts as
// absent). Orbax's v1 API refuses a v1 checkpoint without the file ("Could
// not recognize the checkpoint as a valid Orbax checkpoint").
Result<nlohmann::ordered_json> ListedItemHandlers(const fs::path& directory) {
  auto metadata = checkpoint::ReadCheckpointMetadata(directory);
  if (metadata.has_value()) return metadata->item_handlers;
  STOWAGE_ASSIGN_OR_RETURN(bool v1, checkpoint::FileExists(directory / checkpoint::kV1MarkerFile));
  if (!v1) return nlohmann::ordered_json();
  if (metadata.error().code() != ErrorCode::kNotFound) return metadata.error();
  return NotFoundError((directory / checkpoint::kCheckpointMetadataFile).string() +
                       " is missing; an Orbax v1 checkpoint (marked by " +
                       std::string(checkpoint::kV1MarkerFile) + ") is not valid without it");
}

// kInvalidArgument when `directory` is a direct checkpoint: one PyTree, no
// named items (Orbax: "no named checkpointables").
Status CheckComposite(const fs::path& directory, const nlohmann::ordered_json& listed) {
  bool direct = listed.is_string() || (!listed.is_object() && checkpoint::HoldsTree(directory));
  if (!direct) return OkStatus();
  return InvalidArgumentError(directory.string() +
                              " is a single PyTree checkpoint, not a composite: it has no named "
                              "items (restore it with PyTreeCheckpointHandler)");
}

// Item name -> handler typestr ("" when not listed: recognised from files).
Result<std::map<std::string, std::string>> ItemHandlers(const fs::path& directory,
                                                        const nlohmann::ordered_json& listed) {
  std::map<std::string, std::string> handlers;
  if (listed.is_object()) {
    for (const auto& [item, typestr] : listed.items()) {
      handlers[item] = typestr.is_string() ? typestr.get<std::string>() : "";
    }
  }
  STOWAGE_ASSIGN_OR_RETURN(auto entries, checkpoint::ListFolder(directory));
  for (const std::string& item : entries.folders) {
    if (checkpoint::IsTemporaryDir(item) || handlers.count(item)) continue;
    if (!listed.is_object() || checkpoint::ItemKindOfDirectory(directory / item) == ItemKind::kTree)
      handlers[item] = "";
  }
  return handlers;
}

Result<CompositeItem> RestoreKnownItem(const fs::path& item_dir, ItemKind kind,
                                       const PyTreeCheckpointHandlerOptions& tree_options) {
  if (kind == ItemKind::kTree) {
    STOWAGE_ASSIGN_OR_RETURN(Tree tree, PyTreeCheckpointHandler(tree_options).Restore(item_dir));
    return CompositeItem(std::move(tree));
  }
  STOWAGE_ASSIGN_OR_RETURN(auto json, ReadJsonItem(item_dir));
  return CompositeItem(std::move(json));
}

// Restores `item` into `items`, or skips it (not requested, and of a handler
// stowage does not know).
Status RestoreItem(const fs::path& directory, const std::string& item, const std::string& typestr,
                   bool requested, const PyTreeCheckpointHandlerOptions& tree_options,
                   std::map<std::string, CompositeItem>& items) {
  fs::path item_dir = directory / item;
  STOWAGE_ASSIGN_OR_RETURN(bool present, checkpoint::FolderExists(item_dir));
  ItemKind kind = !typestr.empty() ? checkpoint::ItemKindOfHandler(typestr)
                  : present        ? checkpoint::ItemKindOfDirectory(item_dir)
                                   : ItemKind::kUnknown;
  if (!present && (requested || kind != ItemKind::kUnknown)) {
    return NotFoundError(item_dir.string() + ", the folder of item \"" + item +
                         "\", does not exist");
  }
  if (kind == ItemKind::kUnknown) {
    if (!requested) return OkStatus();
    return UnsupportedError("item \"" + item + "\" of " + directory.string() +
                            " was saved by a handler stowage does not know (" +
                            (typestr.empty() ? std::string("unrecognised files") : typestr) + ")");
  }
  auto restored = RestoreKnownItem(item_dir, kind, tree_options);
  if (!restored.has_value()) return restored.error().WithContext("item \"" + item + "\"");
  items.emplace(item, std::move(*restored));
  return OkStatus();
}

}  // namespace

Result<std::map<std::string, CompositeItem>> RestoreCompositeCheckpoint(
    const fs::path& directory, const CompositeRestoreArgs& args,
    const PyTreeCheckpointHandlerOptions& tree_options) {
  STOWAGE_ASSIGN_OR_RETURN(bool exists, checkpoint::FolderExists(directory));
  if (!exists) return NotFoundError("composite checkpoint at " + directory.string() + " not found");
  STOWAGE_ASSIGN_OR_RETURN(auto listed, ListedItemHandlers(directory));
  STOWAGE_RETURN_IF_ERROR(CheckComposite(directory, listed));
  STOWAGE_ASSIGN_OR_RETURN(auto handlers, ItemHandlers(directory, listed));
  for (const auto& item : args.items) {
    if (!handlers.count(item)) {
      return NotFoundError(directory.string() + " has no item \"" + item + "\"");
    }
  }
  std::map<std::string, CompositeItem> items;
  for (const auto& [item, typestr] : handlers) {
    bool requested = std::find(args.items.begin(), args.items.end(), item) != args.items.end();
    if (!args.items.empty() && !requested) continue;
    STOWAGE_RETURN_IF_ERROR(RestoreItem(directory, item, typestr, requested, tree_options, items));
  }
  return items;
}

}  // namespace stowage
