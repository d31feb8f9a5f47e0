// stowage layer: kvstore
//
// OCDBT: TensorStore's Optionally-Cooperative Distributed B+Tree key-value
// store, the format Orbax's PyTree and Standard handlers write through. A
// database is a directory (a prefix of a base store) holding
// `manifest.ocdbt` and data files `d/<32 hex>`; values larger than
// `max_inline_value_bytes` live in data files, smaller ones inside B+tree
// nodes. Byte-compatible with TensorStore (tensorstore/kvstore/ocdbt/index.rst).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stowage/kvstore.h"

namespace stowage::kvstore {

// Settings for a database this store creates (an existing database keeps
// the configuration in its manifest). The defaults are Orbax's
// (`tensorstore_utils.py` `add_ocdbt_write_options`).
struct OcdbtOptions {
  std::uint32_t max_inline_value_bytes = 1024;
  std::uint32_t max_decoded_node_bytes = 100000000;
  std::uint8_t version_tree_arity_log2 = 4;
  std::optional<int> zstd_level = 0;  // nullopt: nodes and manifest uncompressed
  // A data file that reaches this size is closed and the next value starts a
  // new one.
  std::uint64_t target_data_file_size = std::uint64_t{2} << 30;
};

// One key of a database, as `stowage inspect` and `verify` show it.
struct OcdbtEntryInfo {
  std::string key;
  std::uint64_t size = 0;
  bool is_inline = true;
  std::string data_file;  // relative to the database root; empty when inline
  std::uint64_t offset = 0;
};

// The latest generation of a database.
struct OcdbtSummary {
  std::uint64_t generation = 0;  // 0: no manifest yet
  std::uint64_t commit_time_ns = 0;
  std::uint8_t root_height = 0;
  std::uint64_t num_keys = 0;
  std::uint64_t num_tree_bytes = 0;
  std::uint64_t num_indirect_value_bytes = 0;
  std::uint32_t max_inline_value_bytes = 0;
  std::uint32_t max_decoded_node_bytes = 0;
  std::optional<int> zstd_level;
  std::size_t num_version_tree_nodes = 0;
};

// A Store view of one database. Reads see the latest committed generation;
// Write and Delete stage changes that Commit publishes as one new
// generation (atomically: a crash leaves the previous manifest in force).
// Reads, Writes and Deletes may run concurrently; Commit must not overlap
// Writes.
class OcdbtStore : public Store {
 public:
  // Opens the database `<root>manifest.ocdbt` of `base` (`root` is "" or
  // ends in '/'). Without a manifest the database is empty; Commit creates
  // it. Errors: kDataLoss (corrupt manifest, naming the file), kUnsupported.
  static Result<std::unique_ptr<OcdbtStore>> Open(std::shared_ptr<Store> base,
                                                  std::string root = "", OcdbtOptions options = {});

  // Publishes every staged Write and Delete as a new generation.
  // Errors: kIo (naming the file); on failure the previous generation
  // stays the latest.
  virtual Status Commit() = 0;

  // The latest generation's statistics and configuration.
  virtual OcdbtSummary Summary() const = 0;

  // Every key starting with `prefix`, with where its value lives.
  virtual Result<std::vector<OcdbtEntryInfo>> ListEntries(std::string_view prefix) const = 0;

  // Data files the latest generation references (relative to the root).
  virtual Result<std::vector<std::string>> DataFiles() const = 0;

  // B+tree nodes fetched from storage so far (node cache misses).
  virtual std::uint64_t node_reads() const = 0;
};

// True when `base` holds `<root>manifest.ocdbt`.
Result<bool> IsOcdbtDatabase(const Store& base, std::string_view root = "");

// Orbax's finalize step for multi-process saves: writes, at `root`, a
// database holding every key of the databases at `child_roots` (each a
// subdirectory of `root`, e.g. "ocdbt.process_0/"). Small values are copied;
// large ones are referenced in the children's data files, which must be
// kept. Errors: kInvalidArgument (a child outside root, or a key in two
// children), kDataLoss, kIo.
Status MergeOcdbtDatabases(std::shared_ptr<Store> base, std::span<const std::string> child_roots,
                           std::string root = "", OcdbtOptions options = {});

}  // namespace stowage::kvstore
