#include "checkpoint/dir_ops.h"

#include "stowage/directory.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;

namespace {

// The store of `file`'s folder.
Result<std::shared_ptr<kvstore::Store>> StoreOfParent(const fs::path& file) {
  return kvstore::OpenDirectory(file.has_parent_path() ? file.parent_path() : fs::path("."));
}

}  // namespace

Result<bool> FileExists(const fs::path& file) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, StoreOfParent(file));
  return store->Exists(file.filename().string());
}

Result<Bytes> ReadFileBytes(const fs::path& file, std::uint64_t max_bytes) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, StoreOfParent(file));
  return store->Read(file.filename().string(), {.max_bytes = max_bytes});
}

Result<bool> FolderExists(const fs::path& dir) { return kvstore::DirectoryExists(dir); }

Result<FolderEntries> ListFolder(const fs::path& dir) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(dir));
  STOWAGE_ASSIGN_OR_RETURN(auto children, store->ListChildren(""));
  FolderEntries entries;
  for (std::string& name : children) {
    if (name.ends_with('/')) {
      name.pop_back();
      entries.folders.push_back(std::move(name));
    } else {
      entries.files.push_back(std::move(name));
    }
  }
  return entries;
}

}  // namespace stowage::checkpoint
