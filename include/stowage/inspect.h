// stowage layer: checkpoint
//
// A read-only description of a checkpoint directory: its format, its leaves
// (value types, dtypes, shapes, chunking, compression, bytes on disk) and
// its `_CHECKPOINT_METADATA`. Reads metadata files only, never chunk data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stowage/array.h"
#include "stowage/ocdbt.h"

namespace stowage {

struct LeafInfo {
  std::string name;                  // Orbax param name, e.g. "checkpoint" or "params.w"
  std::string value_type;            // "np.ndarray", "scalar", "jax.Array", ... ("" if unknown)
  std::optional<Shape> write_shape;  // from `_METADATA` (jax.Array leaves)
  // From the array's `.zarray`, when the format is readable:
  std::string zarr_dtype;  // "<f4", "bfloat16" (zarr v2) or "float32" (zarr3)
  std::optional<DType> dtype;
  std::optional<Shape> shape;
  std::optional<Shape> chunks;
  nlohmann::json compressor;   // zarr v2 compressor (null: raw) or zarr3 codecs
  std::string storage_format;  // "zarr v2", "zarr3 (in OCDBT)", ...
  std::uint64_t bytes_on_disk = 0;
  std::uint64_t chunk_files = 0;  // stored chunks (files or OCDBT keys)
  std::string problem;            // why details are missing, if they are
};

// The OCDBT database holding a checkpoint's arrays.
struct OcdbtInfo {
  kvstore::OcdbtSummary summary;
  std::vector<std::string> data_files;         // relative to the checkpoint
  std::vector<std::string> process_databases;  // "ocdbt.process_0", ...
  std::vector<kvstore::OcdbtEntryInfo> keys;
  std::string problem;  // why the keys could not be listed, if they could not
};

struct CheckpointInfo {
  std::filesystem::path path;
  std::string format;  // "zarr v2", "OCDBT + zarr v2", "OCDBT + zarr3", ...
  bool finalized = false;
  bool has_tree_metadata = false;
  nlohmann::ordered_json item_handlers;  // from _CHECKPOINT_METADATA, null if absent
  std::optional<std::int64_t> init_timestamp_nsecs;
  std::optional<std::int64_t> commit_timestamp_nsecs;
  nlohmann::ordered_json custom_metadata;
  std::vector<LeafInfo> leaves;
  std::optional<OcdbtInfo> ocdbt;  // when the arrays live in OCDBT
  std::uint64_t total_bytes = 0;   // every file under the directory
};

// Describes the checkpoint at `directory`. Leaves come from `_METADATA`, or,
// without it, from the arrays found (folders or OCDBT keys holding a
// `.zarray` or `zarr.json`). Errors: kNotFound (no such directory),
// kDataLoss (corrupt `_METADATA` or OCDBT manifest).
Result<CheckpointInfo> InspectCheckpoint(const std::filesystem::path& directory);

// The description as JSON (the CLI's `inspect --json`).
nlohmann::ordered_json CheckpointInfoToJson(const CheckpointInfo& info);

}  // namespace stowage
