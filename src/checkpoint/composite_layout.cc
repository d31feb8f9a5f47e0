#include "checkpoint/composite_layout.h"

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

bool HoldsTree(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / kTreeMetadataFile, ec) || fs::exists(dir / kOcdbtManifestFile, ec) ||
         fs::is_regular_file(dir / kLegacyAggregateFile, ec);
}

std::optional<fs::path> JsonFileOf(const fs::path& item_dir) {
  std::error_code ec;
  for (fs::path name : {item_dir.filename(), fs::path("data.json"), fs::path("metadata")}) {
    if (fs::is_regular_file(item_dir / name, ec)) return item_dir / name;
  }
  return std::nullopt;
}

ItemKind ItemKindOfDirectory(const fs::path& item_dir) {
  if (HoldsTree(item_dir)) return ItemKind::kTree;
  return JsonFileOf(item_dir) ? ItemKind::kJson : ItemKind::kUnknown;
}

}  // namespace stowage::checkpoint
