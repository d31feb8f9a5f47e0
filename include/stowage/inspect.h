// stowage layer: checkpoint
//
// A read-only description of a checkpoint directory: its format, its tree
// (map keys, sequence indices, and at the leaves arrays and scalars with
// their dtype, shape, chunking, compression and bytes on disk, strings, and
// empty nodes), its `_CHECKPOINT_METADATA`, and for a composite checkpoint
// each item. It reads metadata only: `_METADATA`, `_CHECKPOINT_METADATA`,
// `.zarray` / `zarr.json`, OCDBT manifests and B+tree nodes,
// `_strings.json`, JSON items, and a legacy msgpack aggregate file when it
// is small (kMaxInspectedAggregateBytes); never an array chunk.
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

// String leaves longer than this many bytes are cut (at a UTF-8 character
// boundary) in LeafInfo::string_value.
inline constexpr std::size_t kMaxInspectedStringBytes = 256;
// JSON items whose file is larger than this are not parsed: ItemInfo::json
// stays null and ItemInfo::preview shows the file's beginning.
inline constexpr std::uint64_t kMaxInspectedJsonBytes = std::uint64_t{64} << 10;
// A legacy msgpack aggregate file (`checkpoint`) is decoded only up to this
// size (it holds values, not just metadata); beyond it the tree lists the
// arrays found beside it and CheckpointInfo::tree_note says why.
inline constexpr std::uint64_t kMaxInspectedAggregateBytes = std::uint64_t{16} << 20;
// ItemInfo::preview is at most this many bytes (plus "...").
inline constexpr std::size_t kMaxInspectedPreviewBytes = 200;

// What a leaf of the tree is.
enum class LeafKind {
  kArray,          // an array or scalar (or a value of a type stowage does not know)
  kString,         // a string, stored in `_strings.json` (Orbax's StringHandler)
  kEmptyMap,       // {} (`_METADATA` value type "Dict")
  kEmptySequence,  // [] ("List", "Tuple")
  kNone,           // None ("None", "NamedTuple" and other empty-node types)
};

// One leaf of a checkpoint: a `_METADATA` entry, a value of a legacy
// aggregate file, or (without either) an array found on disk.
struct LeafInfo {
  std::string name;  // Orbax param name, e.g. "checkpoint" or "params.w"
  std::string
      value_type;  // "np.ndarray", "scalar", "jax.Array", "string", "Dict", ... ("" if unknown)
  LeafKind kind = LeafKind::kArray;
  std::optional<Shape> write_shape;  // from `_METADATA` (jax.Array leaves)
  // For arrays, from the `.zarray` / `zarr.json` (or the aggregate file):
  std::string zarr_dtype;  // "<f4", "bfloat16" (zarr v2) or "float32" (zarr3)
  std::optional<DType> dtype;
  std::optional<Shape> shape;
  std::optional<Shape> chunks;
  nlohmann::json compressor;   // zarr v2 compressor (null: raw) or zarr3 codecs
  std::string storage_format;  // "zarr v2", "zarr3 in OCDBT", "msgpack aggregate", ...
  std::uint64_t bytes_on_disk = 0;
  std::uint64_t chunk_files = 0;  // stored chunks (files or OCDBT keys)
  // For kString: the value, cut to kMaxInspectedStringBytes, and its full
  // length in bytes (larger than string_value.size() when cut).
  std::string string_value;
  std::uint64_t string_bytes = 0;
  std::string problem;  // why details are missing, if they are
};

// A node of a checkpoint's tree. A leaf refers to its LeafInfo; a map or
// sequence holds its children. Key types come from `_METADATA` (dict keys
// vs sequence indices); without `_METADATA` every key is a map key.
struct TreeNodeInfo {
  std::string key;                  // map key, or decimal index; "" at the root
  bool is_index = false;            // `key` is a sequence index (shown "[i]")
  std::optional<std::size_t> leaf;  // index into CheckpointInfo::leaves
  // Members in stored order (Orbax's flatten order: sorted keys, ascending
  // indices). A node is a sequence when its children are indices.
  std::vector<TreeNodeInfo> children;
};

// The OCDBT database holding a checkpoint's arrays.
struct OcdbtInfo {
  kvstore::OcdbtSummary summary;
  std::vector<std::string> data_files;         // relative to the checkpoint
  std::vector<std::string> process_databases;  // "ocdbt.process_0", ...
  std::vector<kvstore::OcdbtEntryInfo> keys;
  std::string problem;  // why the keys could not be listed, if they could not
};

struct ItemInfo;

// What InspectCheckpoint found in a checkpoint directory (or, under
// ItemInfo::checkpoint, in a tree item of a composite checkpoint).
struct CheckpointInfo {
  std::filesystem::path path;
  // "zarr v2", "OCDBT + zarr v2", "OCDBT + zarr3", ..., or "composite".
  std::string format;
  bool finalized = false;
  bool has_tree_metadata = false;
  nlohmann::ordered_json item_handlers;  // from _CHECKPOINT_METADATA, null if absent
  std::optional<std::int64_t> init_timestamp_nsecs;
  std::optional<std::int64_t> commit_timestamp_nsecs;
  nlohmann::ordered_json custom_metadata;
  // Every leaf, in tree order (`_METADATA` order, aggregate-file order, or
  // sorted names of the arrays found). Empty for a composite checkpoint.
  std::vector<LeafInfo> leaves;
  // The root of the tree over `leaves` (a map, or a single leaf); absent for
  // a composite checkpoint.
  std::optional<TreeNodeInfo> tree;
  // Where the tree comes from: "_METADATA", "aggregate file", "arrays found"
  // (no key types: the names as stored), or "" (composite).
  std::string tree_source;
  std::string tree_note;           // e.g. why the aggregate file was not read
  std::optional<OcdbtInfo> ocdbt;  // when the arrays live in OCDBT
  std::uint64_t total_bytes = 0;   // every file under the directory
  bool is_composite = false;
  // For a composite checkpoint, its items by name.
  std::vector<ItemInfo> items;
};

// How an item of a composite checkpoint is stored.
enum class ItemKind {
  kTree,     // PyTree / Standard handler, or a directory holding `_METADATA` or `manifest.ocdbt`
  kJson,     // JSON handler: `<item>/<item>`, `<item>/metadata` or `<item>/data.json`
  kUnknown,  // a handler stowage does not read (or an unrecognised directory)
};

// One item of a composite checkpoint (a subdirectory).
struct ItemInfo {
  std::string name;     // the subdirectory's name
  std::string handler;  // typestr from `_CHECKPOINT_METADATA` ("" when not recorded)
  ItemKind kind = ItemKind::kUnknown;
  std::uint64_t total_bytes = 0;  // every file under the item's directory
  std::uint64_t files = 0;        // how many files that is
  // kTree: the item described as a checkpoint of its own (unset when that
  // failed; `problem` says why).
  std::optional<CheckpointInfo> checkpoint;
  // kJson: the file (relative to the checkpoint) and its content, parsed when
  // at most kMaxInspectedJsonBytes (else null).
  std::string json_file;
  nlohmann::ordered_json json;
  // kJson: the content on one line, cut to kMaxInspectedPreviewBytes.
  std::string preview;
  std::string problem;  // e.g. a missing directory or unreadable metadata
};

// Describes the checkpoint at `directory`. A directory whose
// `_CHECKPOINT_METADATA` maps item names to handlers (or, without that,
// whose subdirectories hold `_METADATA` or `manifest.ocdbt` while it holds
// neither) is a composite: each item is described, a problem with one item
// being recorded in it. Otherwise leaves and tree come from `_METADATA`; or,
// without it, from a legacy aggregate file (within
// kMaxInspectedAggregateBytes); or from the arrays found (folders or OCDBT
// keys holding a `.zarray` or `zarr.json`). Errors: kNotFound (no such
// directory), kDataLoss (corrupt `_METADATA` or OCDBT manifest).
Result<CheckpointInfo> InspectCheckpoint(const std::filesystem::path& directory);

// The description as JSON (the CLI's `inspect --json`): the fields above,
// each leaf with "kind" ("array", "string", "empty_dict", "empty_list",
// "none") and, for strings and empty nodes, "value"; "tree" as nested nodes
// ({"node": "dict", "children": {key: node}}, {"node": "list", "children":
// [node]}, or {"node": "leaf", "leaf": <index into "leaves">, <the leaf's
// fields>}); "items" with each tree item's description under "checkpoint".
nlohmann::ordered_json CheckpointInfoToJson(const CheckpointInfo& info);

}  // namespace stowage
