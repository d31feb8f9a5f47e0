#include <algorithm>

#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/layout.h"
#include "kvstore/file_ops.h"
#include "stowage/composite_checkpoint_handler.h"
#include "stowage/pytree_checkpoint_handler.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

enum class ItemKind { kTree, kJson, kUnknown };

ItemKind KindOfHandler(std::string_view typestr) {
  for (std::string_view tree : {"pytree_checkpoint_handler", "standard_checkpoint_handler",
                                "PyTreeHandler", "StandardHandler"}) {
    if (typestr.find(tree) != std::string_view::npos) return ItemKind::kTree;
  }
  if (typestr.find("json_checkpoint_handler") != std::string_view::npos ||
      typestr.find("JsonHandler") != std::string_view::npos) {
    return ItemKind::kJson;
  }
  return ItemKind::kUnknown;
}

// The file a JSON item keeps its value in.
std::optional<fs::path> JsonFileOf(const fs::path& item_dir) {
  std::error_code ec;
  for (fs::path name : {item_dir.filename(), fs::path("data.json"), fs::path("metadata")}) {
    if (fs::is_regular_file(item_dir / name, ec)) return item_dir / name;
  }
  return std::nullopt;
}

ItemKind KindOfDirectory(const fs::path& item_dir) {
  std::error_code ec;
  if (fs::exists(item_dir / checkpoint::kTreeMetadataFile, ec) ||
      fs::exists(item_dir / checkpoint::kOcdbtManifestFile, ec) ||
      fs::exists(item_dir / "checkpoint", ec)) {
    return ItemKind::kTree;
  }
  return JsonFileOf(item_dir) ? ItemKind::kJson : ItemKind::kUnknown;
}

Result<nlohmann::ordered_json> ReadJsonItem(const fs::path& item_dir) {
  auto file = JsonFileOf(item_dir);
  if (!file) return NotFoundError(item_dir.string() + " holds no JSON item file");
  STOWAGE_ASSIGN_OR_RETURN(std::uint64_t size, kvstore::FileSize(*file));
  if (size > (std::uint64_t{1} << 30))
    return DataLossError(file->string() + " is implausibly large");
  std::string text(size, '\0');
  STOWAGE_RETURN_IF_ERROR(kvstore::ReadFileInto(*file, std::as_writable_bytes(std::span(text))));
  auto json = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return DataLossError(file->string() + ": not valid JSON");
  return json;
}

// Item name -> handler typestr from `_CHECKPOINT_METADATA`, or from the
// subdirectories when it names none.
std::map<std::string, std::string> ItemHandlers(const fs::path& directory) {
  std::map<std::string, std::string> handlers;
  auto metadata = checkpoint::ReadCheckpointMetadata(directory);
  if (metadata.has_value() && metadata->item_handlers.is_object()) {
    for (const auto& [item, typestr] : metadata->item_handlers.items()) {
      handlers[item] = typestr.is_string() ? typestr.get<std::string>() : "";
    }
    return handlers;
  }
  std::error_code ec;
  for (auto it = fs::directory_iterator(directory, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec)) handlers[it->path().filename().string()] = "";
  }
  return handlers;
}

}  // namespace

Result<std::map<std::string, CompositeItem>> RestoreCompositeCheckpoint(
    const fs::path& directory, const CompositeRestoreArgs& args) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return NotFoundError("composite checkpoint at " + directory.string() + " not found");
  }
  auto handlers = ItemHandlers(directory);
  for (const auto& item : args.items) {
    if (!handlers.count(item)) {
      return NotFoundError(directory.string() + " has no item \"" + item + "\"");
    }
  }
  std::map<std::string, CompositeItem> items;
  for (const auto& [item, typestr] : handlers) {
    bool requested = std::find(args.items.begin(), args.items.end(), item) != args.items.end();
    if (!args.items.empty() && !requested) continue;
    fs::path item_dir = directory / item;
    if (!fs::is_directory(item_dir, ec)) {
      if (requested) return NotFoundError(item_dir.string() + " does not exist");
      continue;
    }
    ItemKind kind = typestr.empty() ? KindOfDirectory(item_dir) : KindOfHandler(typestr);
    if (kind == ItemKind::kUnknown) {
      if (!requested) continue;
      return UnsupportedError("item \"" + item + "\" of " + directory.string() +
                              " was saved by a handler stowage does not know (" +
                              (typestr.empty() ? std::string("unrecognised files") : typestr) +
                              ")");
    }
    if (kind == ItemKind::kTree) {
      auto tree = PyTreeCheckpointHandler().Restore(item_dir);
      if (!tree.has_value()) return tree.error().WithContext("item \"" + item + "\"");
      items.emplace(item, std::move(*tree));
    } else {
      auto json = ReadJsonItem(item_dir);
      if (!json.has_value()) return json.error().WithContext("item \"" + item + "\"");
      items.emplace(item, std::move(*json));
    }
  }
  return items;
}

}  // namespace stowage
