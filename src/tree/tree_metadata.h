// The `_METADATA` file of an Orbax PyTree checkpoint: per leaf its key path
// and value metadata, plus checkpoint-wide flags. Written byte-identical to
// Orbax's `json.dumps` (orbax `_src/metadata/tree.py`,
// `value_metadata_entry.py`; base_pytree_checkpoint_handler.py
// `_write_metadata_file`); read tolerantly, with the defaults Orbax applies
// to older files.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/array.h"
#include "stowage/error.h"

namespace stowage::tree {

// Orbax's KeyType: how a path element indexes its parent.
enum class KeyType { kSequence = 1, kDict = 2 };

struct KeyEntry {
  std::string key;
  KeyType type = KeyType::kDict;
  bool operator==(const KeyEntry&) const = default;
};

using KeyPath = std::vector<KeyEntry>;

// Orbax's value_type strings.
inline constexpr std::string_view kNumpyTypestr = "np.ndarray";
inline constexpr std::string_view kScalarTypestr = "scalar";
inline constexpr std::string_view kJaxArrayTypestr = "jax.Array";
inline constexpr std::string_view kStringTypestr = "string";

struct ValueMetadata {
  std::string value_type;
  bool skip_deserialize = false;
  std::optional<Shape> write_shape;  // jax.Array leaves only
};

struct TreeMetadataEntry {
  KeyPath keypath;
  ValueMetadata value;
};

struct TreeMetadata {
  std::vector<TreeMetadataEntry> entries;  // in tree-flatten order
  std::optional<bool> use_ocdbt;           // absent in files before 2025-12
  bool use_zarr3 = false;
  // Absent in old files, which means missing chunks read as the fill value.
  std::optional<bool> store_array_data_equal_to_fill_value;
  nlohmann::ordered_json custom_metadata;  // null when absent

  // The entry whose key names equal `names`, or nullptr.
  const TreeMetadataEntry* Find(const std::vector<std::string>& names) const;
  // The entry whose param name ("a.b") is `param_name`, or nullptr.
  const TreeMetadataEntry* FindByParamName(std::string_view param_name) const;
};

// Orbax's param name of a key path: the key names joined with '.'.
std::string ParamName(const KeyPath& keypath);

// The `_METADATA` text Orbax writes for `metadata`.
std::string EncodeTreeMetadata(const TreeMetadata& metadata);

// Parses `_METADATA`. Errors: kDataLoss naming `path` for bad JSON or
// ill-typed members.
Result<TreeMetadata> ParseTreeMetadata(std::span<const std::byte> text, std::string_view path);

}  // namespace stowage::tree
