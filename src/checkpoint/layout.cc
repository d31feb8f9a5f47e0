#include "checkpoint/layout.h"

#include <string>

namespace stowage::checkpoint {

std::filesystem::path NormalizeDir(const std::filesystem::path& dir) {
  std::filesystem::path normal = dir.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) {
    normal = normal.parent_path();
  }
  return normal;
}

std::filesystem::path TemporaryDirFor(const std::filesystem::path& final_dir) {
  std::filesystem::path dir = NormalizeDir(final_dir);
  return dir.parent_path() / (dir.filename().string() + std::string(kTmpDirMarker));
}

bool IsTemporaryDir(const std::filesystem::path& dir) {
  return NormalizeDir(dir).filename().string().find(kTmpDirMarker) != std::string::npos;
}

}  // namespace stowage::checkpoint
