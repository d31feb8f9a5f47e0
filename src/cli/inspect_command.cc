// `stowage inspect DIR [--json] [--keys]`: the checkpoint's format and
// metadata, its tree (one line per leaf) or, for a composite checkpoint, its
// items; the per-leaf details when the checkpoint has a single leaf.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/progress.h"
#include "stowage/inspect.h"

namespace stowage::cli {
namespace {

// String leaves show at most this many bytes of their value.
constexpr std::size_t kShownStringBytes = 80;

std::string FormatTimestamp(const std::optional<std::int64_t>& nanos) {
  if (!nanos) return "-";
  std::time_t seconds = static_cast<std::time_t>(*nanos / 1000000000);
  char buf[64];
  std::tm tm;
  gmtime_r(&seconds, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Bytes(std::uint64_t bytes) { return FormatBytes(static_cast<double>(bytes)); }

// JSON text that never throws on bad UTF-8 (replaced by U+FFFD).
std::string Dump(const nlohmann::ordered_json& json, int indent = -1) {
  return json.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string FormatCompressor(const nlohmann::json& compressor) {
  if (compressor.is_null()) return "uncompressed";
  if (compressor.is_array()) return compressor.dump();  // zarr3 codecs
  std::string text = compressor.value("id", std::string("?"));
  for (const auto& [key, value] : compressor.items()) {
    if (key != "id") text += " " + key + "=" + value.dump();
  }
  return text;
}

// "zstd", "raw", or for zarr3 the codec names ("sharding_indexed(bytes+zstd)").
std::string ShortCompressor(const nlohmann::json& compressor) {
  if (compressor.is_null()) return "raw";
  if (compressor.is_object()) return compressor.value("id", std::string("?"));
  if (!compressor.is_array()) return "?";
  std::string text;
  for (const auto& codec : compressor) {
    if (!text.empty()) text += "+";
    text += codec.is_object() ? codec.value("name", std::string("?")) : std::string("?");
    const auto* inner = codec.is_object() && codec.contains("configuration") &&
                                codec["configuration"].is_object() &&
                                codec["configuration"].contains("codecs")
                            ? &codec["configuration"]["codecs"]
                            : nullptr;
    if (inner && inner->is_array()) text += "(" + ShortCompressor(*inner) + ")";
  }
  return text;
}

// A string leaf's value, quoted, cut for one line.
std::string ShownString(const LeafInfo& leaf) {
  std::string value = leaf.string_value;
  bool cut = value.size() < leaf.string_bytes;
  if (value.size() > kShownStringBytes) {
    std::size_t end = kShownStringBytes;
    while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
    value.resize(end);
    cut = true;
  }
  std::string text = Dump(nlohmann::ordered_json(value));
  if (cut) text += "... (" + std::to_string(leaf.string_bytes) + " bytes)";
  return text;
}

// An array leaf on one line: dtype[shape], value type, chunks, codec,
// storage, bytes.
std::string ArraySummary(const LeafInfo& leaf) {
  std::string text;
  bool scalar = leaf.value_type == "scalar";
  if (leaf.dtype) {
    text = std::string(DTypeName(*leaf.dtype)) + (scalar       ? " scalar"
                                                  : leaf.shape ? ShapeToString(*leaf.shape)
                                                               : "");
  }
  if (leaf.value_type != "np.ndarray" && !leaf.value_type.empty() && !(scalar && leaf.dtype)) {
    text += (text.empty() ? "" : "  ") + leaf.value_type;
  }
  if (leaf.chunks) {
    text += "  chunks " + ShapeToString(*leaf.chunks) + "  " + ShortCompressor(leaf.compressor);
  }
  if (!leaf.storage_format.empty()) {
    text += "  " + leaf.storage_format + "  " + Bytes(leaf.bytes_on_disk);
  }
  return text;
}

// What a leaf line shows after the key.
std::string LeafSummary(const LeafInfo& leaf) {
  std::string text;
  switch (leaf.kind) {
    case LeafKind::kArray:
      text = ArraySummary(leaf);
      break;
    case LeafKind::kString:
      text = leaf.problem.empty() ? ShownString(leaf) : "string";
      break;
    case LeafKind::kEmptyMap:
      text = "{}";
      break;
    case LeafKind::kEmptySequence:
      text = "[]";
      break;
    case LeafKind::kNone:
      text = "None";
      break;
  }
  if (!leaf.problem.empty()) text += (text.empty() ? "" : "  ") + ("(" + leaf.problem + ")");
  return text;
}

std::string KeyText(const TreeNodeInfo& node) {
  return node.is_index ? "[" + node.key + "]" : node.key;
}

// The children of `node`, one line each, leaf keys padded to one width.
void PrintTreeChildren(const TreeNodeInfo& node, const std::vector<LeafInfo>& leaves,
                       const std::string& indent) {
  std::size_t width = 0;
  for (const auto& child : node.children) {
    if (child.leaf) width = std::max(width, KeyText(child).size());
  }
  for (const auto& child : node.children) {
    std::string key = KeyText(child);
    std::cout << indent << key;
    if (child.leaf && *child.leaf < leaves.size()) {
      std::cout << std::string(width - key.size() + 2, ' ') << LeafSummary(leaves[*child.leaf]);
    }
    std::cout << "\n";
    PrintTreeChildren(child, leaves, indent + "  ");
  }
}

void PrintTree(const CheckpointInfo& info, const std::string& indent) {
  std::size_t count = info.leaves.size();
  std::cout << indent << "tree (" << count << (count == 1 ? " leaf" : " leaves");
  if (!info.tree_source.empty()) std::cout << ", from " << info.tree_source;
  std::cout << "):\n";
  if (!info.tree_note.empty()) std::cout << indent << "  note: " << info.tree_note << "\n";
  if (!info.tree) return;
  if (info.tree->leaf && *info.tree->leaf < count) {  // a bare leaf at the root
    std::cout << indent << "  ()  " << LeafSummary(info.leaves[*info.tree->leaf]) << "\n";
  }
  PrintTreeChildren(*info.tree, info.leaves, indent + "  ");
}

void PrintLeaf(const LeafInfo& leaf, const std::string& indent) {
  std::string in = indent + "    ";
  std::cout << indent << "  " << leaf.name << "\n";
  if (!leaf.value_type.empty()) std::cout << in << "value type:  " << leaf.value_type << "\n";
  if (leaf.dtype) {
    std::cout << in << "dtype:       " << DTypeName(*leaf.dtype);
    if (!leaf.zarr_dtype.empty()) std::cout << " (" << leaf.zarr_dtype << ")";
    std::cout << "\n";
  }
  if (leaf.shape) std::cout << in << "shape:       " << ShapeToString(*leaf.shape) << "\n";
  if (leaf.chunks) std::cout << in << "chunks:      " << ShapeToString(*leaf.chunks) << "\n";
  if (leaf.write_shape) {
    std::cout << in << "write shape: " << ShapeToString(*leaf.write_shape) << "\n";
  }
  if (leaf.kind == LeafKind::kString && leaf.problem.empty()) {
    std::cout << in << "value:       " << ShownString(leaf) << "\n";
  }
  if (leaf.chunks) std::cout << in << "compressor:  " << FormatCompressor(leaf.compressor) << "\n";
  if (leaf.dtype) {
    std::cout << in << "storage:     " << leaf.storage_format << ", " << leaf.chunk_files
              << " stored chunk(s), " << Bytes(leaf.bytes_on_disk) << " on disk\n";
  }
  if (!leaf.problem.empty()) std::cout << in << "note:        " << leaf.problem << "\n";
}

void PrintOcdbt(const OcdbtInfo& ocdbt, bool list_keys, const std::string& indent) {
  const kvstore::OcdbtSummary& s = ocdbt.summary;
  std::string in = indent + "             ";
  std::size_t inline_keys = 0;
  for (const auto& key : ocdbt.keys) inline_keys += key.is_inline ? 1 : 0;
  std::cout << indent << "OCDBT:       generation " << s.generation << ", committed "
            << FormatTimestamp(static_cast<std::int64_t>(s.commit_time_ns)) << "\n"
            << in << s.num_keys << " keys (" << inline_keys << " inline), tree height "
            << int(s.root_height) << ", " << Bytes(s.num_tree_bytes) << " of nodes, "
            << Bytes(s.num_indirect_value_bytes) << " in data files\n"
            << in << ocdbt.data_files.size() << " data file(s) referenced; "
            << ocdbt.process_databases.size() << " process database(s)\n";
  for (const auto& file : ocdbt.data_files) std::cout << in << "  " << file << "\n";
  if (!ocdbt.problem.empty()) std::cout << in << "problem: " << ocdbt.problem << "\n";
  if (!list_keys) return;
  std::cout << indent << "keys (" << ocdbt.keys.size() << "):\n";
  for (const auto& key : ocdbt.keys) {
    std::cout << indent << "  " << key.key << "  " << key.size << " B  "
              << (key.is_inline ? std::string("inline")
                                : key.data_file + " @" + std::to_string(key.offset))
              << "\n";
  }
}

void PrintFormat(const CheckpointInfo& info, const std::string& indent) {
  std::string format = info.is_composite
                           ? "composite, " + std::to_string(info.items.size()) + " item(s)"
                           : info.format;
  std::cout << indent << "format:      " << format << (info.finalized ? "" : " (UNFINISHED save)")
            << "\n";
  if (info.is_composite) return;
  std::cout << indent
            << "_METADATA:   " << (info.has_tree_metadata ? "present" : "absent (legacy layout)")
            << "\n";
}

// Size, OCDBT database, tree and (for a single leaf) its details: what a
// tree checkpoint and a tree item of a composite share.
void PrintStorage(const CheckpointInfo& info, const InspectOptions& options,
                  const std::string& indent) {
  std::cout << indent << "size:        " << Bytes(info.total_bytes) << "\n";
  if (info.ocdbt) PrintOcdbt(*info.ocdbt, options.keys, indent);
  PrintTree(info, indent);
  if (info.leaves.size() != 1) return;
  std::cout << indent << "leaf:\n";
  PrintLeaf(info.leaves.front(), indent);
}

std::string_view ItemKindText(ItemKind kind) {
  switch (kind) {
    case ItemKind::kTree:
      return "tree";
    case ItemKind::kJson:
      return "JSON";
    case ItemKind::kUnknown:
      return "not read by stowage";
  }
  return "";
}

// One item: name (padded to `width`), kind and handler, then what it holds.
void PrintItem(const ItemInfo& item, std::size_t width, const InspectOptions& options) {
  std::cout << "  " << item.name << std::string(width - item.name.size() + 2, ' ') << "["
            << ItemKindText(item.kind) << "]  "
            << (item.handler.empty() ? "(handler not recorded)" : item.handler) << "\n";
  const std::string indent = "    ";
  if (item.kind == ItemKind::kJson && !item.json_file.empty()) {
    std::cout << indent << item.json_file << " (" << Bytes(item.total_bytes)
              << "): " << item.preview << "\n";
  } else if (item.kind == ItemKind::kUnknown) {
    std::cout << indent << item.files << " file(s), " << Bytes(item.total_bytes) << "\n";
  }
  if (item.checkpoint) {
    PrintFormat(*item.checkpoint, indent);
    PrintStorage(*item.checkpoint, options, indent);
  }
  if (!item.problem.empty()) std::cout << indent << "problem: " << item.problem << "\n";
}

// Format and `_CHECKPOINT_METADATA`.
void PrintHeader(const CheckpointInfo& info) {
  std::cout << "checkpoint:  " << info.path.string() << "\n";
  PrintFormat(info, "");
  if (info.item_handlers.is_string()) {
    std::cout << "handler:     " << info.item_handlers.get<std::string>() << "\n";
  }
  std::cout << "saved:       " << FormatTimestamp(info.init_timestamp_nsecs) << "\n"
            << "committed:   " << FormatTimestamp(info.commit_timestamp_nsecs) << "\n";
  if (!info.custom_metadata.is_null() && !info.custom_metadata.empty()) {
    std::cout << "custom:      " << Dump(info.custom_metadata) << "\n";
  }
}

}  // namespace

Status RunInspect(const InspectOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(CheckpointInfo info, InspectCheckpoint(options.directory));
  if (options.json) {
    std::cout << Dump(CheckpointInfoToJson(info), 2) << "\n";
    return OkStatus();
  }
  PrintHeader(info);
  if (!info.is_composite) {
    PrintStorage(info, options, "");
    return OkStatus();
  }
  std::cout << "size:        " << Bytes(info.total_bytes) << "\n"
            << "items (" << info.items.size() << "):\n";
  std::size_t width = 0;
  for (const auto& item : info.items) width = std::max(width, item.name.size());
  for (const auto& item : info.items) PrintItem(item, width, options);
  return OkStatus();
}

}  // namespace stowage::cli
