// CheckpointInfoToJson: the CLI's `inspect --json`.
#include "checkpoint/inspect_internal.h"

namespace stowage {
namespace {

using ojson = nlohmann::ordered_json;

ojson OptionalInt(const std::optional<std::int64_t>& value) {
  return value ? ojson(*value) : ojson();
}

ojson OptionalText(const std::string& text) { return text.empty() ? ojson() : ojson(text); }

std::string_view LeafKindName(LeafKind kind) {
  switch (kind) {
    case LeafKind::kArray:
      return "array";
    case LeafKind::kString:
      return "string";
    case LeafKind::kEmptyMap:
      return "empty_dict";
    case LeafKind::kEmptySequence:
      return "empty_list";
    case LeafKind::kNone:
      return "none";
  }
  return "array";
}

std::string_view ItemKindName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kTree:
      return "tree";
    case ItemKind::kJson:
      return "json";
    case ItemKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

// The value an empty node or string shows, or nothing (arrays).
void AddLeafValue(const LeafInfo& leaf, ojson& item) {
  switch (leaf.kind) {
    case LeafKind::kString:
      item["value"] = leaf.string_value;
      item["length"] = leaf.string_bytes;
      item["truncated"] = leaf.string_value.size() < leaf.string_bytes;
      break;
    case LeafKind::kEmptyMap:
      item["value"] = ojson::object();
      break;
    case LeafKind::kEmptySequence:
      item["value"] = ojson::array();
      break;
    case LeafKind::kNone:
      item["value"] = nullptr;
      break;
    case LeafKind::kArray:
      break;
  }
}

ojson LeafToJson(const LeafInfo& leaf) {
  ojson item = {
      {"name", leaf.name}, {"value_type", leaf.value_type}, {"kind", LeafKindName(leaf.kind)}};
  if (leaf.write_shape) item["write_shape"] = *leaf.write_shape;
  if (leaf.dtype) item["dtype"] = std::string(DTypeName(*leaf.dtype));
  if (!leaf.zarr_dtype.empty()) item["zarr_dtype"] = leaf.zarr_dtype;
  if (leaf.shape) item["shape"] = *leaf.shape;
  if (leaf.chunks) item["chunks"] = *leaf.chunks;
  if (leaf.dtype) item["compressor"] = leaf.compressor;
  AddLeafValue(leaf, item);
  item["storage_format"] = leaf.storage_format;
  item["bytes_on_disk"] = leaf.bytes_on_disk;
  item["chunk_files"] = leaf.chunk_files;
  if (!leaf.problem.empty()) item["problem"] = leaf.problem;
  return item;
}

bool IsSequence(const TreeNodeInfo& node) {
  if (node.children.empty()) return false;
  for (const auto& child : node.children) {
    if (!child.is_index) return false;
  }
  return true;
}

// {"node": "leaf", "leaf": <index into "leaves">, <the leaf's fields>},
// {"node": "dict", "children": {key: node}} or {"node": "list", "children": [node]}.
// Recursion is bounded by kMaxInspectedTreeDepth.
ojson TreeNodeToJson(const TreeNodeInfo& node, const std::vector<LeafInfo>& leaves) {
  ojson out;
  if (node.leaf && *node.leaf < leaves.size()) {
    out = {{"node", "leaf"}, {"leaf", *node.leaf}};
    out.update(LeafToJson(leaves[*node.leaf]));
    if (node.children.empty()) return out;
  } else {
    out["node"] = IsSequence(node) ? "list" : "dict";
  }
  if (IsSequence(node)) {
    ojson children = ojson::array();
    for (const auto& child : node.children) children.push_back(TreeNodeToJson(child, leaves));
    out["children"] = std::move(children);
    return out;
  }
  ojson children = ojson::object();
  for (const auto& child : node.children) {
    children[child.is_index ? "[" + child.key + "]" : child.key] = TreeNodeToJson(child, leaves);
  }
  out["children"] = std::move(children);
  return out;
}

ojson OcdbtInfoToJson(const OcdbtInfo& info) {
  const kvstore::OcdbtSummary& s = info.summary;
  ojson keys = ojson::array();
  for (const auto& key : info.keys) {
    ojson item = {{"key", key.key}, {"size", key.size}, {"inline", key.is_inline}};
    if (!key.is_inline) {
      item["data_file"] = key.data_file;
      item["offset"] = key.offset;
    }
    keys.push_back(std::move(item));
  }
  return {{"generation", s.generation},
          {"commit_time_ns", s.commit_time_ns},
          {"root_height", s.root_height},
          {"num_keys", s.num_keys},
          {"num_tree_bytes", s.num_tree_bytes},
          {"num_indirect_value_bytes", s.num_indirect_value_bytes},
          {"max_inline_value_bytes", s.max_inline_value_bytes},
          {"max_decoded_node_bytes", s.max_decoded_node_bytes},
          {"compression", s.zstd_level ? ojson{{"id", "zstd"}, {"level", *s.zstd_level}} : ojson()},
          {"data_files", info.data_files},
          {"process_databases", info.process_databases},
          {"keys", keys},
          {"problem", OptionalText(info.problem)}};
}

ojson ItemToJson(const ItemInfo& item) {
  return {{"name", item.name},
          {"handler", OptionalText(item.handler)},
          {"kind", ItemKindName(item.kind)},
          {"total_bytes", item.total_bytes},
          {"files", item.files},
          {"json_file", OptionalText(item.json_file)},
          {"json", item.json},
          {"preview", OptionalText(item.preview)},
          {"checkpoint", item.checkpoint ? CheckpointInfoToJson(*item.checkpoint) : ojson()},
          {"problem", OptionalText(item.problem)}};
}

}  // namespace

ojson CheckpointInfoToJson(const CheckpointInfo& info) {
  ojson leaves = ojson::array();
  for (const auto& leaf : info.leaves) leaves.push_back(LeafToJson(leaf));
  ojson items = ojson::array();
  for (const auto& item : info.items) items.push_back(ItemToJson(item));
  return {{"path", info.path.string()},
          {"format", info.format},
          {"finalized", info.finalized},
          {"has_tree_metadata", info.has_tree_metadata},
          {"is_composite", info.is_composite},
          {"item_handlers", info.item_handlers},
          {"init_timestamp_nsecs", OptionalInt(info.init_timestamp_nsecs)},
          {"commit_timestamp_nsecs", OptionalInt(info.commit_timestamp_nsecs)},
          {"custom_metadata", info.custom_metadata},
          {"total_bytes", info.total_bytes},
          {"leaves", leaves},
          {"tree_source", OptionalText(info.tree_source)},
          {"tree_note", OptionalText(info.tree_note)},
          {"tree", info.tree ? TreeNodeToJson(*info.tree, info.leaves) : ojson()},
          {"items", items},
          {"ocdbt", info.ocdbt ? OcdbtInfoToJson(*info.ocdbt) : ojson()}};
}

}  // namespace stowage
