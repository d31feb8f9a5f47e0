// Local-filesystem primitives with errors that name the path: whole-file
// reads and writes, atomic replace (temp + fsync + rename + fsync dir),
// directory creation, removal, and renames. Used by the file store and by the
// checkpointer's atomic directory commit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "stowage/error.h"

namespace stowage::kvstore {

// Size of the regular file at `path`. Errors: kNotFound, kIo.
Result<std::uint64_t> FileSize(const std::filesystem::path& path);

// Reads the whole file at `path` into `out`, which must be exactly its size.
// Errors: kNotFound, kDataLoss (size differs), kIo.
Status ReadFileInto(const std::filesystem::path& path, std::span<std::byte> out);

// Writes `data` to `path` (created or truncated) with large writes; fsyncs
// the file when `sync` is true. On failure the file may hold partial data.
Status WriteFile(const std::filesystem::path& path, std::span<const std::byte> data, bool sync);

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

}  // namespace stowage::kvstore
