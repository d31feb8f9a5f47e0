#include "checkpoint/composite_layout.h"

#include <algorithm>

#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;

ItemKind ItemKindOfHandler(std::string_view typestr) {
  for (std::string_view tree : {"pytree_checkpoint_handler", "standard_checkpoint_handler",
                                "PyTreeHandler", "StandardHandler"}) {
    if (typestr.find(tree) != std::string_view::npos) return ItemKind::kTree;
  }
  // Orbax v1's json_handler module holds JsonHandler and MetricsHandler.
  for (std::string_view json : {"json_checkpoint_handler", "json_handler", "JsonHandler"}) {
    if (typestr.find(json) != std::string_view::npos) return ItemKind::kJson;
  }
  return ItemKind::kUnknown;
}

namespace {

// The files directly in `dir`; none when it cannot be listed (the read that
// follows reports why).
std::vector<std::string> FilesIn(const fs::path& dir) {
  auto entries = ListFolder(dir);
  return entries.has_value() ? std::move(entries->files) : std::vector<std::string>();
}

bool Contains(const std::vector<std::string>& files, std::string_view name) {
  return std::find(files.begin(), files.end(), name) != files.end();
}

}  // namespace

bool HoldsTree(const fs::path& dir) {
  std::vector<std::string> files = FilesIn(dir);
  return Contains(files, kTreeMetadataFile) || Contains(files, kOcdbtManifestFile) ||
         Contains(files, kLegacyAggregateFile);
}

std::optional<fs::path> JsonFileOf(const fs::path& item_dir) {
  std::vector<std::string> files = FilesIn(item_dir);
  for (fs::path name : {item_dir.filename(), fs::path("data.json"), fs::path("metadata")}) {
    if (Contains(files, name.string())) return item_dir / name;
  }
  return std::nullopt;
}

ItemKind ItemKindOfDirectory(const fs::path& item_dir) {
  if (HoldsTree(item_dir)) return ItemKind::kTree;
  return JsonFileOf(item_dir) ? ItemKind::kJson : ItemKind::kUnknown;
}

}  // namespace stowage::checkpoint
