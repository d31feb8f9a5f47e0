#include "tree/tree_metadata.h"

#include <unordered_set>

#include "base/bytes.h"
#include "base/python_json.h"
#include "base/stored_json.h"

namespace stowage::tree {
namespace {

using ojson = nlohmann::ordered_json;

// The `tree_metadata` member name Orbax gives a leaf: the Python repr of its
// key names as a tuple, e.g. "('params', 'w')".
std::string TupleName(const KeyPath& keypath) {
  std::vector<std::string> names;
  for (const auto& key : keypath) names.push_back(key.key);
  return PythonTupleRepr(names);
}

ojson EntryToJson(const TreeMetadataEntry& entry) {
  ojson keys = ojson::array();
  for (const auto& key : entry.keypath) {
    keys.push_back({{"key", key.key}, {"key_type", static_cast<int>(key.type)}});
  }
  ojson value = {{"value_type", entry.value.value_type},
                 {"skip_deserialize", entry.value.skip_deserialize}};
  if (entry.value.write_shape) value["write_shape"] = *entry.value.write_shape;
  return {{"key_metadata", keys}, {"value_metadata", value}};
}

Result<KeyPath> ParseKeyPath(const ojson& keys, const std::string& where) {
  if (!keys.is_array()) return DataLossError(where + ": \"key_metadata\" is not a list");
  KeyPath path;
  for (const auto& key : keys) {
    if (!key.is_object() || !key.contains("key") || !key.contains("key_type") ||
        !key["key_type"].is_number_integer()) {
      return DataLossError(where + ": malformed key_metadata entry " + key.dump());
    }
    int type = key["key_type"].get<int>();
    if (type != 1 && type != 2) {
      return DataLossError(where + ": unknown key_type " + std::to_string(type));
    }
    const ojson& name = key["key"];
    // Orbax writes keys as strings; sequence indices may come back as numbers.
    path.push_back(
        {name.is_string() ? name.get<std::string>() : name.dump(), static_cast<KeyType>(type)});
  }
  return path;
}

Result<ValueMetadata> ParseValueMetadata(const ojson& value, const std::string& where) {
  if (!value.is_object() || !value.contains("value_type") || !value["value_type"].is_string()) {
    return DataLossError(where + ": \"value_metadata\" lacks a string \"value_type\"");
  }
  ValueMetadata out;
  out.value_type = value["value_type"].get<std::string>();
  auto skip = value.find("skip_deserialize");
  if (skip != value.end() && skip->is_boolean()) out.skip_deserialize = skip->get<bool>();
  auto shape = value.find("write_shape");
  if (shape != value.end() && shape->is_array()) {
    Shape dims;
    for (const auto& d : *shape) {
      if (!d.is_number_integer()) return DataLossError(where + ": bad \"write_shape\"");
      dims.push_back(d.get<std::int64_t>());
    }
    out.write_shape = dims;
  }
  return out;
}

Result<std::optional<bool>> OptionalBool(const ojson& doc, const char* field,
                                         const std::string& where) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return DataLossError(where + ": \"" + field + "\" is not a bool");
  return std::optional<bool>(it->get<bool>());
}

}  // namespace

const TreeMetadataEntry* TreeMetadata::Find(const std::vector<std::string>& names) const {
  for (const auto& entry : entries) {
    if (entry.keypath.size() != names.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < names.size() && same; ++i) {
      same = entry.keypath[i].key == names[i];
    }
    if (same) return &entry;
  }
  return nullptr;
}

const TreeMetadataEntry* TreeMetadata::FindByParamName(std::string_view param_name) const {
  for (const auto& entry : entries) {
    if (ParamName(entry.keypath) == param_name) return &entry;
  }
  return nullptr;
}

std::string ParamName(const KeyPath& keypath) {
  std::string name;
  for (std::size_t i = 0; i < keypath.size(); ++i) {
    if (i) name += '.';
    name += keypath[i].key;
  }
  return name;
}

std::string EncodeTreeMetadata(const TreeMetadata& metadata) {
  ojson tree = ojson::object();
  // Keys are distinct (one per leaf), so append without ordered_json's
  // linear search per insertion, which made large trees quadratic.
  auto& members = tree.get_ref<ojson::object_t&>();
  members.reserve(metadata.entries.size());
  for (const auto& entry : metadata.entries) {
    members.emplace_back(TupleName(entry.keypath), EntryToJson(entry));
  }
  ojson doc = {{"tree_metadata", tree}};
  if (metadata.use_ocdbt) doc["use_ocdbt"] = *metadata.use_ocdbt;
  doc["use_zarr3"] = metadata.use_zarr3;
  if (metadata.store_array_data_equal_to_fill_value) {
    doc["store_array_data_equal_to_fill_value"] = *metadata.store_array_data_equal_to_fill_value;
  }
  doc["custom_metadata"] = metadata.custom_metadata;
  return DumpPythonJson(doc);
}

Result<TreeMetadata> ParseTreeMetadata(std::span<const std::byte> text, std::string_view path) {
  std::string where(path);
  STOWAGE_ASSIGN_OR_RETURN(ojson doc, ParseStoredJson<ojson>(AsStringView(text), where));
  if (!doc.is_object()) return DataLossError(where + ": not a JSON object");
  auto tree = doc.find("tree_metadata");
  if (tree == doc.end() || !tree->is_object()) {
    return DataLossError(where + ": missing \"tree_metadata\" object");
  }
  TreeMetadata out;
  std::unordered_set<std::string> leaves;
  for (const auto& [tree_key, entry] : tree->items()) {
    std::string entry_where = where + " entry " + tree_key;
    if (!entry.is_object() || !entry.contains("key_metadata") ||
        !entry.contains("value_metadata")) {
      return DataLossError(entry_where + ": needs \"key_metadata\" and \"value_metadata\"");
    }
    TreeMetadataEntry parsed;
    STOWAGE_ASSIGN_OR_RETURN(parsed.keypath, ParseKeyPath(entry["key_metadata"], entry_where));
    STOWAGE_ASSIGN_OR_RETURN(parsed.value,
                             ParseValueMetadata(entry["value_metadata"], entry_where));
    if (!leaves.insert(TupleName(parsed.keypath)).second) {
      return DataLossError(entry_where + ": a second entry for leaf " + TupleName(parsed.keypath));
    }
    out.entries.push_back(std::move(parsed));
  }
  STOWAGE_ASSIGN_OR_RETURN(out.use_ocdbt, OptionalBool(doc, "use_ocdbt", where));
  STOWAGE_ASSIGN_OR_RETURN(auto zarr3, OptionalBool(doc, "use_zarr3", where));
  out.use_zarr3 = zarr3.value_or(false);
  STOWAGE_ASSIGN_OR_RETURN(out.store_array_data_equal_to_fill_value,
                           OptionalBool(doc, "store_array_data_equal_to_fill_value", where));
  out.custom_metadata = doc.value("custom_metadata", ojson());
  return out;
}

}  // namespace stowage::tree
