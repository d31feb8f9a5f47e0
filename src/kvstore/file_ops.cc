#include "kvstore/file_ops.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <random>
#include <string>
#include <vector>

#include "base/run_on_threads.h"
#include "kvstore/fault_point.h"
#include "kvstore/os_error.h"

namespace stowage::kvstore {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxIoChunk = std::size_t{1} << 30;  // Linux caps one write at ~2 GiB

std::string UniqueSuffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  return ".stowage-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(rng() % 1000000);
}

}  // namespace

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

int FileDescriptor::Close() {
  int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

Result<FileDescriptor> OpenFile(const fs::path& path, int flags) {
  FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (fd.get() < 0) return OsError(errno, "open", path);
  return fd;
}

Status PreadExact(int fd, std::span<std::byte> out, std::uint64_t offset, const fs::path& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t want = std::min(out.size() - done, kMaxIoChunk);
    ssize_t n = ::pread(fd, out.data() + done, want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return OsError(errno, "read", path);
    if (n == 0) {
      return DataLossError(
          path.string() + ": ends before byte " + std::to_string(offset + out.size()) + " (read " +
          std::to_string(out.size()) + " bytes at offset " + std::to_string(offset) + ")");
    }
    done += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Status PwriteAll(int fd, std::span<const std::byte> data, std::uint64_t offset,
                 const fs::path& path) {
  STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kWrite, path, [&] {
    (void)!::pwrite(fd, data.data(), data.size() / 2, static_cast<off_t>(offset));
  }));
  std::size_t done = 0;
  while (done < data.size()) {
    std::size_t want = std::min(data.size() - done, kMaxIoChunk);
    ssize_t n = ::pwrite(fd, data.data() + done, want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return OsError(errno, "write", path);
    done += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Result<std::uint64_t> FileSize(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OsError(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return DataLossError(path.string() + " is not a regular file");
  return static_cast<std::uint64_t>(st.st_size);
}

Status ReadFileInto(const fs::path& path, std::span<std::byte> out) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return OsError(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return OsError(errno, "stat", path);
  if (static_cast<std::uint64_t>(st.st_size) != out.size()) {
    return DataLossError(path.string() + ": expected " + std::to_string(out.size()) +
                         " bytes, file has " + std::to_string(st.st_size));
  }
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t want = std::min(out.size() - done, kMaxIoChunk);
    ssize_t n = ::read(fd.get(), out.data() + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return OsError(errno, "read", path);
    if (n == 0) return DataLossError(path.string() + ": file shrank while reading");
    done += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Result<Bytes> ReadWholeFile(const fs::path& path, std::uint64_t max_bytes) {
  STOWAGE_ASSIGN_OR_RETURN(std::uint64_t size, FileSize(path));
  if (size > max_bytes) {
    return ResourceExhaustedError(path.string() + " holds " + std::to_string(size) +
                                  " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  Bytes bytes(size);
  STOWAGE_RETURN_IF_ERROR(ReadFileInto(path, bytes));
  return bytes;
}

void StartWriteback(int fd) {
#ifdef SYNC_FILE_RANGE_WRITE
  ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);  // advisory: errors surface at fsync
#else
  (void)fd;
#endif
}

Status Fsync(int fd, std::string_view operation, const fs::path& path) {
  STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kFsync, path));
  if (!internal::FsyncReachesDisk()) return OkStatus();
  if (::fsync(fd) != 0) return OsError(errno, operation, path);
  return OkStatus();
}

Status WriteFile(const fs::path& path, std::span<const std::byte> data, bool sync,
                 bool start_writeback) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return OsError(errno, "open", path);
  STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kWrite, path, [&] {
    (void)!::write(fd.get(), data.data(), std::min(data.size() / 2, kMaxIoChunk));
  }));
  std::size_t done = 0;
  while (done < data.size()) {
    std::size_t want = std::min(data.size() - done, kMaxIoChunk);
    ssize_t n = ::write(fd.get(), data.data() + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return OsError(errno, "write", path);
    done += static_cast<std::size_t>(n);
  }
  if (sync) STOWAGE_RETURN_IF_ERROR(Fsync(fd.get(), "fsync", path));
  if (start_writeback && !sync) StartWriteback(fd.get());
  if (fd.Close() != 0) return OsError(errno, "close", path);
  return OkStatus();
}

Status WriteFileAtomically(const fs::path& path, std::span<const std::byte> data, bool sync) {
  fs::path temp = path;
  temp += UniqueSuffix();
  Status written = WriteFile(temp, data, sync);
  if (!written.has_value()) {
    ::unlink(temp.c_str());
    return written;
  }
  Status renamed = internal::FileFault(FaultOp::kRename, path);
  if (!renamed.has_value()) {
    ::unlink(temp.c_str());
    return renamed;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return OsError(err, "rename into place", path);
  }
  if (sync) return SyncDirectory(path.parent_path().empty() ? "." : path.parent_path());
  return OkStatus();
}

Status CreateDirectories(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kWrite, path));
  }
  fs::create_directories(path, ec);
  if (ec == std::errc::not_a_directory || ec == std::errc::file_exists) {
    return IoError("create directory " + path.string() + ": a file is in the way");
  }
  if (ec) return OsError(ec.value(), "create directory", path);
  return OkStatus();
}

Status SyncDirectory(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return OsError(errno, "open directory", path);
  return Fsync(fd.get(), "fsync directory", path);
}

namespace {
Status SyncFile(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return OsError(errno, "open", path);
  return Fsync(fd.get(), "fsync", path);
}
}  // namespace

namespace {

// Runs the fsyncs on up to kSyncThreads threads at once: they wait on the
// disk, not the CPU, and a filesystem commits concurrent fsyncs together.
constexpr std::size_t kSyncThreads = 8;

// The first error in `paths` order of fsyncing each (directories marked).
Status SyncAll(const std::vector<std::pair<fs::path, bool>>& paths) {
  std::vector<Status> outcomes(paths.size(), OkStatus());
  RunOnThreads(paths.size(), kSyncThreads, [&](std::size_t i) {
    const auto& [path, directory] = paths[i];
    outcomes[i] = directory ? SyncDirectory(path) : SyncFile(path);
  });
  for (auto& outcome : outcomes) STOWAGE_RETURN_IF_ERROR(outcome);
  return OkStatus();
}

}  // namespace

Status SyncTree(const fs::path& root) {
  std::error_code ec;
  std::vector<std::pair<fs::path, bool>> paths;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec)) {
      paths.emplace_back(it->path(), true);
    } else if (it->is_regular_file(ec)) {
      paths.emplace_back(it->path(), false);
    }
  }
  if (ec) return OsError(ec.value(), "walk", root);
  STOWAGE_RETURN_IF_ERROR(SyncAll(paths));
  return SyncDirectory(root);  // after its entries
}

Status RemoveAll(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec))) {
    STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kDelete, path));
  }
  fs::remove_all(path, ec);
  if (ec) return OsError(ec.value(), "remove", path);
  return OkStatus();
}

Status Rename(const fs::path& from, const fs::path& to) {
  STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kRename, to));
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return OsError(errno, "rename " + from.string() + " to", to);
  }
  return OkStatus();
}

Result<bool> Exchange(const fs::path& a, const fs::path& b) {
#ifdef RENAME_EXCHANGE
  STOWAGE_RETURN_IF_ERROR(internal::FileFault(FaultOp::kRename, b));
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
  if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) return false;
  return OsError(errno, "exchange " + a.string() + " with", b);
#else
  (void)a;
  (void)b;
  return false;
#endif
}

}  // namespace stowage::kvstore
