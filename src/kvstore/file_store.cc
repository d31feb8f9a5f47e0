// The local-file store: key "a/b" is the file <root>/a/b.
//
// Writes: plain writes go straight to the final file with large sequential
// writes (a crash can leave it partial; the checkpointer only ever writes
// those inside an uncommitted temporary directory). Atomic writes use
// WriteFileAtomically: temp file, fsync, rename, fsync directory.
#include <algorithm>
#include <mutex>
#include <set>

#include "kvstore/file_ops.h"
#include "kvstore/key.h"
#include "kvstore/os_error.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore {
namespace fs = std::filesystem;
namespace {

class FileStore final : public Store {
 public:
  FileStore(fs::path root, FileStoreOptions options) : root_(std::move(root)), options_(options) {}

  Result<Bytes> Read(std::string_view key, ReadOptions options) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    STOWAGE_ASSIGN_OR_RETURN(std::uint64_t size, FileSize(path));
    if (size > options.max_bytes) {
      return DataLossError(path.string() + " holds " + std::to_string(size) +
                           " bytes, more than the " + std::to_string(options.max_bytes) +
                           " expected");
    }
    Bytes value(size);
    STOWAGE_RETURN_IF_ERROR(ReadFileInto(path, value));
    return value;
  }

  Status ReadInto(std::string_view key, std::span<std::byte> out) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    return ReadFileInto(PathOf(key), out);
  }

  Status Write(std::string_view key, std::span<const std::byte> value,
               WriteOptions options) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    STOWAGE_RETURN_IF_ERROR(EnsureDirectory(path.parent_path()));
    bool sync = options_.fsync == FsyncPolicy::kEveryWrite;
    if (options.atomic) return WriteFileAtomically(path, value, sync);
    STOWAGE_RETURN_IF_ERROR(WriteFile(path, value, sync));
    if (sync) return SyncDirectory(path.parent_path());
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    std::error_code ec;
    fs::remove(path, ec);
    if (ec && ec.value() != ENOENT) return OsError(ec.value(), "delete", path);
    return OkStatus();
  }

  Result<bool> Exists(std::string_view key) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    std::error_code ec;
    bool exists = fs::is_regular_file(PathOf(key), ec);
    if (ec && ec.value() != ENOENT) return OsError(ec.value(), "stat", PathOf(key));
    return exists;
  }

  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    std::vector<std::string> keys;
    std::error_code ec;
    if (!fs::is_directory(root_, ec)) return keys;
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string key = it->path().lexically_relative(root_).generic_string();
      if (key.starts_with(prefix) && key.find(".stowage-tmp-") == std::string::npos) {
        keys.push_back(std::move(key));
      }
    }
    if (ec) return OsError(ec.value(), "list", root_);
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::string Describe(std::string_view key) const override { return PathOf(key).string(); }

 private:
  fs::path PathOf(std::string_view key) const { return root_ / fs::path(std::string(key)); }

  // Creates `dir` once per store (many chunk writes share a directory).
  Status EnsureDirectory(const fs::path& dir) {
    {
      std::lock_guard lock(mutex_);
      if (created_.count(dir.string())) return OkStatus();
    }
    STOWAGE_RETURN_IF_ERROR(CreateDirectories(dir));
    std::lock_guard lock(mutex_);
    created_.insert(dir.string());
    return OkStatus();
  }

  fs::path root_;
  FileStoreOptions options_;
  std::mutex mutex_;
  std::set<std::string> created_;
};

}  // namespace

std::unique_ptr<Store> OpenFileStore(fs::path root, FileStoreOptions options) {
  return std::make_unique<FileStore>(std::move(root), options);
}

}  // namespace stowage::kvstore
