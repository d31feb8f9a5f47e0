// stowage layer: kvstore
//
// A Store maps string keys to byte values. Keys use '/' as a separator; a
// store gives it no meaning beyond List(prefix). Formats (zarr) reach storage
// only through this interface, so a new backend never touches a format.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/bytes.h"
#include "stowage/error.h"

namespace stowage::kvstore {

using stowage::Bytes;

struct WriteOptions {
  // When true, a concurrent or later reader sees the old value or the whole
  // new value, never a mix (file store: temp file + rename). Metadata is
  // written this way; bulk chunk data inside an uncommitted checkpoint is not.
  bool atomic = false;
};

struct ReadOptions {
  // A value larger than this fails with kDataLoss instead of being read, so
  // hostile files cannot force unbounded allocations.
  std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max();
};

// Appends byte blobs to one value; see Store::OpenAppend.
class AppendWriter {
 public:
  virtual ~AppendWriter() = default;

  // Appends `data` and returns the offset at which it starts. Safe to call
  // concurrently: concurrent blobs occupy disjoint ranges.
  virtual Result<std::uint64_t> Append(std::span<const std::byte> data) = 0;

  // Bytes appended so far.
  virtual std::uint64_t size() const = 0;

  // Makes the value complete and durable (as the store's policy says). Until
  // Close succeeds the value may be absent or partial.
  virtual Status Close() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // The value under `key`. Errors: kNotFound (message names the file or
  // key), kDataLoss (larger than options.max_bytes), kIo.
  virtual Result<Bytes> Read(std::string_view key, ReadOptions options = {}) const = 0;

  // Reads the value under `key` into `out`, which must be exactly its size.
  // Errors: kNotFound, kDataLoss (the value is not out.size() bytes), kIo.
  virtual Status ReadInto(std::string_view key, std::span<std::byte> out) const;

  // Bytes [offset, offset + length) of the value under `key`. Errors:
  // kNotFound, kDataLoss (the range runs past the end of the value), kIo.
  virtual Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                                  std::uint64_t length) const;

  // Starts a new value under `key` (replacing any previous one) that is
  // built by appending blobs; OCDBT data files are written this way.
  virtual Result<std::unique_ptr<AppendWriter>> OpenAppend(std::string_view key);

  // Writes `value` under `key`, replacing any previous value.
  // Errors: kIo (message names the file), kInvalidArgument (bad key).
  virtual Status Write(std::string_view key, std::span<const std::byte> value,
                       WriteOptions options = {}) = 0;

  // Removes `key`; succeeds when it is already absent.
  virtual Status Delete(std::string_view key) = 0;

  // True when `key` holds a value.
  virtual Result<bool> Exists(std::string_view key) const = 0;

  // Every key that starts with `prefix`, sorted.
  virtual Result<std::vector<std::string>> List(std::string_view prefix) const = 0;

  // The names directly under the folder `dir` ("" for the store's top, else
  // a key prefix without the trailing '/'), sorted: values as their names,
  // sub-folders as their names followed by '/'. Empty when nothing is there.
  virtual Result<std::vector<std::string>> ListChildren(std::string_view dir) const;

  // Removes every value under the folder `dir` ("" for all); succeeds when
  // there is none.
  virtual Status DeleteAll(std::string_view dir);

  // The size in bytes of the value under `key`. Errors: kNotFound, kIo.
  virtual Result<std::uint64_t> Size(std::string_view key) const;

  // The total size of the values under the folder `dir` ("" for all); their
  // number goes to `*values` when given.
  virtual Result<std::uint64_t> BytesUnder(std::string_view dir, std::uint64_t* values) const;

  // A human-readable location of `key` for messages (a file path, or
  // "memory:key").
  virtual std::string Describe(std::string_view key) const = 0;
};

// When the file store forces written data to stable storage.
enum class FsyncPolicy {
  kNone,        // never: fastest, a power cut may lose recent writes
  kEveryWrite,  // each file and its directory before Write returns
  // none, but each file's writeback to disk starts when it is written, so
  // that the fsync of a later commit (the Checkpointer's) has little left
  // to wait for: the fastest durable save, when something commits
  kStartWriteback,
};

struct FileStoreOptions {
  FsyncPolicy fsync = FsyncPolicy::kEveryWrite;
};

// A store over the directory `root` (created on first write if absent): key
// "a/b" is the file root/a/b. Keys must be relative, without "." or ".."
// components.
std::unique_ptr<Store> OpenFileStore(std::filesystem::path root, FileStoreOptions options = {});

// A store held in memory, for tests: the reference behaviour for all stores.
std::unique_ptr<Store> NewMemoryStore();

}  // namespace stowage::kvstore
