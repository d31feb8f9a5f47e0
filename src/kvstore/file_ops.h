// Local-filesystem primitives with errors that name the path: whole-file
// reads and writes, atomic replace (temp + fsync + rename + fsync dir),
// directory creation, removal, and renames. Used by the file store and by the
// checkpointer's atomic directory commit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "stowage/bytes.h"
#include "stowage/error.h"

namespace stowage::kvstore {

// Owns a file descriptor; closes it on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }
  // Closes now, returning what close(2) returns (it can report a delayed
  // write failure).
  int Close();

 private:
  int fd_;
};

// open(2) with O_CLOEXEC (mode 0644 when creating). Errors name the path.
Result<FileDescriptor> OpenFile(const std::filesystem::path& path, int flags);

// Fills `out` from `offset` of the open file `fd` (named `path` in errors).
// Errors: kDataLoss when the file ends first, kIo.
Status PreadExact(int fd, std::span<std::byte> out, std::uint64_t offset,
                  const std::filesystem::path& path);

// Writes all of `data` at `offset` of `fd`. Errors: kIo naming `path`.
Status PwriteAll(int fd, std::span<const std::byte> data, std::uint64_t offset,
                 const std::filesystem::path& path);

// Size of the regular file at `path`. Errors: kNotFound, kIo.
Result<std::uint64_t> FileSize(const std::filesystem::path& path);

// Reads the whole file at `path` into `out`, which must be exactly its size.
// Errors: kNotFound, kDataLoss (size differs), kIo.
Status ReadFileInto(const std::filesystem::path& path, std::span<std::byte> out);

// Reads the whole file at `path`, refusing (kResourceExhausted, naming the
// file and the limit) one larger than `max_bytes` before allocating.
// Errors: also those of ReadFileInto.
Result<Bytes> ReadWholeFile(const std::filesystem::path& path, std::uint64_t max_bytes);

// Writes `data` to `path` (created or truncated) with large writes; fsyncs
// the file when `sync` is true. With `start_writeback`, asks the kernel to
// start writing the file to disk without waiting, so that a later fsync
// finds little left to do. On failure the file may hold partial data.
Status WriteFile(const std::filesystem::path& path, std::span<const std::byte> data, bool sync,
                 bool start_writeback = false);

// fsync(2) of `fd`, reporting failure as kIo "<operation> <path>".
Status Fsync(int fd, std::string_view operation, const std::filesystem::path& path);

// Asks the kernel to start writing `fd`'s dirty pages to disk and returns at
// once (Linux sync_file_range; elsewhere nothing). Not a durability promise.
void StartWriteback(int fd);

// Replaces `path` so readers see the old or the new contents, never a mix:
// writes a unique temporary sibling, fsyncs it (if `sync`), renames it over
// `path`, then fsyncs the directory (if `sync`). A crash before the rename
// leaves `path` untouched plus a "*.stowage-tmp-*" sibling.
Status WriteFileAtomically(const std::filesystem::path& path, std::span<const std::byte> data,
                           bool sync);

// mkdir -p. Errors: kIo (also when a file is in the way).
Status CreateDirectories(const std::filesystem::path& path);

// fsync of a directory, making its entries (new files, renames) durable.
Status SyncDirectory(const std::filesystem::path& path);

// Fsyncs every file and directory below `root` (and `root` itself).
Status SyncTree(const std::filesystem::path& root);

// rm -rf; succeeds when `path` is absent.
Status RemoveAll(const std::filesystem::path& path);

// rename(2): atomic replacement of `to` (an empty directory or absent).
Status Rename(const std::filesystem::path& from, const std::filesystem::path& to);

// Swaps the directory entries `a` and `b` in one atomic step (Linux
// renameat2 RENAME_EXCHANGE): a crash leaves either both as they were or
// both swapped. False when the filesystem cannot (nothing changed then).
// Errors: kIo naming both paths.
Result<bool> Exchange(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace stowage::kvstore
