#include "checkpoint/layout.h"

#include <string>

#include "stowage/directory.h"

namespace stowage::checkpoint {

std::filesystem::path NormalizeDir(const std::filesystem::path& dir) {
  return kvstore::NormalizeDirectory(dir);
}

std::filesystem::path WorkingDirFor(const std::filesystem::path& final_dir) {
  if (kvstore::IsObjectStoreUrl(final_dir)) return NormalizeDir(final_dir);
  return TemporaryDirFor(final_dir);
}

std::filesystem::path TemporaryDirFor(const std::filesystem::path& final_dir) {
  std::filesystem::path dir = NormalizeDir(final_dir);
  return dir.parent_path() / (dir.filename().string() + std::string(kTmpDirMarker));
}

bool IsTemporaryDir(const std::filesystem::path& dir) {
  return NormalizeDir(dir).filename().string().find(kTmpDirMarker) != std::string::npos;
}

}  // namespace stowage::checkpoint
