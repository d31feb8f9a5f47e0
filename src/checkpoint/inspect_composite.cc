// The items of a composite checkpoint (Orbax's CompositeCheckpointHandler:
// one subdirectory per item, handlers named in `_CHECKPOINT_METADATA`), for
// InspectCheckpoint. Items are recognised as RestoreCompositeCheckpoint
// recognises them (composite_restore.cc).
#include <map>

#include "base/stored_json.h"
#include "checkpoint/composite_layout.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/inspect_internal.h"
#include "checkpoint/layout.h"

namespace stowage::checkpoint::inspect {
namespace fs = std::filesystem;

namespace {

// The sub-folders of `dir`; none when it cannot be listed (inspect reports
// what it can).
std::vector<std::string> SubFolders(const fs::path& dir) {
  auto entries = ListFolder(dir);
  return entries.has_value() ? std::move(entries->folders) : std::vector<std::string>();
}

// Item name -> handler typestr: those `_CHECKPOINT_METADATA` names, and
// every other subdirectory with "".
std::map<std::string, std::string> ItemHandlers(const fs::path& dir,
                                                const nlohmann::ordered_json& item_handlers) {
  std::map<std::string, std::string> handlers;
  if (item_handlers.is_object()) {
    for (const auto& [item, typestr] : item_handlers.items()) {
      handlers[item] = typestr.is_string() ? typestr.get<std::string>() : "";
    }
  }
  for (const std::string& folder : SubFolders(dir)) handlers.try_emplace(folder);
  return handlers;
}

void DescribeTreeItem(const fs::path& item_dir, ItemInfo& item) {
  CheckpointInfo tree;
  tree.path = item_dir;
  tree.finalized = !IsTemporaryDir(item_dir);
  tree.total_bytes = item.total_bytes;
  Status described = DescribeTreeCheckpoint(tree);
  if (!described.has_value()) {
    item.problem = described.error().ToString();
    return;
  }
  item.checkpoint = std::move(tree);
}

// `text` on one line (control characters as spaces), cut to
// kMaxInspectedPreviewBytes with "..." when longer.
std::string Preview(std::string_view text) {
  std::string line = CutUtf8(text, kMaxInspectedPreviewBytes);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return line.size() < text.size() ? line + "..." : line;
}

void DescribeJsonItem(const fs::path& item_dir, ItemInfo& item) {
  std::optional<fs::path> file = JsonFileOf(item_dir);
  if (!file) {
    item.problem =
        item_dir.string() + " holds no JSON file (" + item.name + ", metadata or data.json)";
    return;
  }
  item.json_file = (fs::path(item.name) / file->filename()).string();
  std::uint64_t size = 0;
  auto text = ReadFileHead(*file, kMaxInspectedJsonBytes, &size);
  if (!text.has_value()) {
    item.problem = text.error().ToString();
    return;
  }
  if (size > text->size()) {
    item.preview = Preview(*text);  // the head of a file too large to parse
    return;
  }
  auto json = ParseStoredJson<nlohmann::ordered_json>(*text, file->string());
  if (!json.has_value()) {
    item.problem = json.error().message();
    item.preview = Preview(*text);
    return;
  }
  item.preview = Preview(json->dump());
  item.json = std::move(*json);
}

ItemInfo DescribeItem(const fs::path& dir, const std::string& name, const std::string& handler) {
  ItemInfo item{.name = name, .handler = handler};
  fs::path item_dir = dir / name;
  if (!FolderExists(item_dir).value_or(false)) {
    item.kind = ItemKindOfHandler(handler);
    item.problem = item_dir.string() + " does not exist";
    return item;
  }
  item.total_bytes = DirectoryBytes(item_dir, &item.files);
  item.kind = handler.empty() ? ItemKindOfDirectory(item_dir) : ItemKindOfHandler(handler);
  if (item.kind == ItemKind::kTree) DescribeTreeItem(item_dir, item);
  if (item.kind == ItemKind::kJson) DescribeJsonItem(item_dir, item);
  return item;
}

}  // namespace

bool IsComposite(const fs::path& dir, const nlohmann::ordered_json& item_handlers) {
  if (item_handlers.is_object()) return true;
  if (HoldsTree(dir)) return false;
  for (const std::string& folder : SubFolders(dir)) {
    if (HoldsTree(dir / folder)) return true;
  }
  return false;
}

std::vector<ItemInfo> DescribeItems(const fs::path& dir,
                                    const nlohmann::ordered_json& item_handlers) {
  std::vector<ItemInfo> items;
  for (const auto& [name, handler] : ItemHandlers(dir, item_handlers)) {
    items.push_back(DescribeItem(dir, name, handler));
  }
  return items;
}

}  // namespace stowage::checkpoint::inspect
