// The local-file store: key "a/b" is the file <root>/a/b.
//
// Writes: plain writes go straight to the final file with large sequential
// writes (a crash can leave it partial; the checkpointer only ever writes
// those inside an uncommitted temporary directory). Atomic writes use
// WriteFileAtomically: temp file, fsync, rename, fsync directory.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <set>

#include "kvstore/fault_point.h"
#include "kvstore/file_ops.h"
#include "kvstore/key.h"
#include "kvstore/os_error.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore {
namespace fs = std::filesystem;
namespace {

// Open read-only descriptors of recently range-read files, so a reader that
// takes many ranges of one file (OCDBT data files) opens it once.
class ReadDescriptorCache {
 public:
  static constexpr std::size_t kCapacity = 64;

  Result<std::shared_ptr<FileDescriptor>> Get(const fs::path& path) {
    std::lock_guard lock(mutex_);
    if (auto it = open_.find(path.string()); it != open_.end()) return it->second;
    STOWAGE_ASSIGN_OR_RETURN(FileDescriptor fd, OpenFile(path, O_RDONLY));
    if (open_.size() >= kCapacity) {
      open_.erase(order_.front());
      order_.pop_front();
    }
    auto shared = std::make_shared<FileDescriptor>(std::move(fd));
    open_.emplace(path.string(), shared);
    order_.push_back(path.string());
    return shared;
  }

  // Forgets every path (a folder is being removed).
  void Clear() {
    std::lock_guard lock(mutex_);
    open_.clear();
    order_.clear();
  }

  // Forgets `path` (it is being replaced or removed).
  void Forget(const fs::path& path) {
    std::lock_guard lock(mutex_);
    if (open_.erase(path.string()) == 0) return;
    order_.remove(path.string());
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<FileDescriptor>> open_;
  std::list<std::string> order_;
};

// Appends by reserving a range and writing it with pwrite, so workers write
// their blobs concurrently.
class FileAppendWriter final : public AppendWriter {
 public:
  FileAppendWriter(fs::path path, FileDescriptor fd, FsyncPolicy policy)
      : path_(std::move(path)),
        fd_(std::move(fd)),
        sync_(policy == FsyncPolicy::kEveryWrite),
        writeback_(policy == FsyncPolicy::kStartWriteback) {}

  Result<std::uint64_t> Append(std::span<const std::byte> data) override {
    std::uint64_t offset = end_.fetch_add(data.size());
    STOWAGE_RETURN_IF_ERROR(PwriteAll(fd_.get(), data, offset, path_));
    return offset;
  }

  std::uint64_t size() const override { return end_.load(); }

  Status Close() override {
    if (fd_.get() < 0) return OkStatus();
    if (sync_) STOWAGE_RETURN_IF_ERROR(Fsync(fd_.get(), "fsync", path_));
    if (writeback_ && !sync_) StartWriteback(fd_.get());
    if (fd_.Close() != 0) return OsError(errno, "close", path_);
    return sync_ ? SyncDirectory(path_.parent_path()) : OkStatus();
  }

 private:
  fs::path path_;
  FileDescriptor fd_;
  bool sync_, writeback_;
  std::atomic<std::uint64_t> end_{0};
};

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

  Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                          std::uint64_t length) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    if (offset > std::numeric_limits<std::int64_t>::max() ||
        length > std::numeric_limits<std::int64_t>::max() - offset) {
      return DataLossError(path.string() + ": byte range " + std::to_string(offset) + "+" +
                           std::to_string(length) + " is beyond any file");
    }
    STOWAGE_ASSIGN_OR_RETURN(auto fd, descriptors_.Get(path));
    struct stat st;
    if (::fstat(fd->get(), &st) != 0) return OsError(errno, "stat", path);
    if (offset + length > static_cast<std::uint64_t>(st.st_size)) {
      return DataLossError(path.string() + " holds " + std::to_string(st.st_size) +
                           " bytes; cannot read " + std::to_string(length) + " bytes at offset " +
                           std::to_string(offset));
    }
    Bytes value(length);
    STOWAGE_RETURN_IF_ERROR(PreadExact(fd->get(), value, offset, path));
    return value;
  }

  Result<std::unique_ptr<AppendWriter>> OpenAppend(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    STOWAGE_RETURN_IF_ERROR(EnsureDirectory(path.parent_path()));
    descriptors_.Forget(path);
    STOWAGE_ASSIGN_OR_RETURN(FileDescriptor fd, OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC));
    return std::unique_ptr<AppendWriter>(new FileAppendWriter(path, std::move(fd), options_.fsync));
  }

  Status Write(std::string_view key, std::span<const std::byte> value,
               WriteOptions options) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    descriptors_.Forget(path);
    STOWAGE_RETURN_IF_ERROR(EnsureDirectory(path.parent_path()));
    bool sync = options_.fsync == FsyncPolicy::kEveryWrite;
    if (options.atomic) return WriteFileAtomically(path, value, sync);
    bool writeback = options_.fsync == FsyncPolicy::kStartWriteback;
    STOWAGE_RETURN_IF_ERROR(WriteFile(path, value, sync, writeback));
    if (sync) return SyncDirectory(path.parent_path());
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    fs::path path = PathOf(key);
    descriptors_.Forget(path);
    STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kDelete, path));
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

  Result<std::vector<std::string>> ListChildren(std::string_view dir) const override {
    if (!dir.empty()) STOWAGE_RETURN_IF_ERROR(ValidateKey(dir));
    fs::path folder = dir.empty() ? root_ : PathOf(dir);
    std::vector<std::string> names;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return names;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.find(".stowage-tmp-") != std::string::npos) continue;
      names.push_back(it->is_directory(ec) ? name + "/" : name);
    }
    if (ec) return OsError(ec.value(), "list", folder);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status DeleteAll(std::string_view dir) override {
    if (!dir.empty()) STOWAGE_RETURN_IF_ERROR(ValidateKey(dir));
    descriptors_.Clear();
    {
      std::lock_guard lock(mutex_);
      created_.clear();
    }
    return RemoveAll(dir.empty() ? root_ : PathOf(dir));
  }

  Result<std::uint64_t> Size(std::string_view key) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    return FileSize(PathOf(key));
  }

  Result<std::uint64_t> BytesUnder(std::string_view dir, std::uint64_t* values) const override {
    if (!dir.empty()) STOWAGE_RETURN_IF_ERROR(ValidateKey(dir));
    fs::path folder = dir.empty() ? root_ : PathOf(dir);
    std::uint64_t bytes = 0, count = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      bytes += it->file_size(ec);
      ++count;
    }
    if (ec && ec.value() != ENOENT) return OsError(ec.value(), "list", folder);
    if (values) *values = count;
    return bytes;
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
  mutable ReadDescriptorCache descriptors_;
};

}  // namespace

std::unique_ptr<Store> OpenFileStore(fs::path root, FileStoreOptions options) {
  return std::make_unique<FileStore>(std::move(root), options);
}

}  // namespace stowage::kvstore
