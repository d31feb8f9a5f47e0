// Files and folders of checkpoint directories named by path, on whatever
// store the path names (a local directory or an s3:// URL; see
// stowage/directory.h). Unlike std::filesystem's queries, a store that
// cannot be reached is an error, not a "no".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "stowage/bytes.h"
#include "stowage/error.h"

namespace stowage::checkpoint {

// True when a file (a value, not a folder) is at `file`.
Result<bool> FileExists(const std::filesystem::path& file);

// The bytes of `file`. Errors: kNotFound, kDataLoss (over max_bytes), kIo.
Result<Bytes> ReadFileBytes(const std::filesystem::path& file, std::uint64_t max_bytes);

// True when the folder `dir` exists (on an object store: holds anything).
Result<bool> FolderExists(const std::filesystem::path& dir);

// What is directly in `dir`, split into files and sub-folders (names only),
// each sorted. Both empty when `dir` is absent.
struct FolderEntries {
  std::vector<std::string> files;
  std::vector<std::string> folders;
};
Result<FolderEntries> ListFolder(const std::filesystem::path& dir);

}  // namespace stowage::checkpoint
