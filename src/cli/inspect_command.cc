#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "cli/progress.h"
#include "stowage/inspect.h"

namespace stowage::cli {
namespace {

std::string FormatTimestamp(const std::optional<std::int64_t>& nanos) {
  if (!nanos) return "-";
  std::time_t seconds = static_cast<std::time_t>(*nanos / 1000000000);
  char buf[64];
  std::tm tm;
  gmtime_r(&seconds, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
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

void PrintLeaf(const LeafInfo& leaf) {
  std::cout << "  " << leaf.name << "\n";
  if (!leaf.value_type.empty()) std::cout << "    value type:  " << leaf.value_type << "\n";
  if (leaf.dtype) {
    std::cout << "    dtype:       " << DTypeName(*leaf.dtype) << " (" << leaf.zarr_dtype << ")\n";
  }
  if (leaf.shape) std::cout << "    shape:       " << ShapeToString(*leaf.shape) << "\n";
  if (leaf.chunks) std::cout << "    chunks:      " << ShapeToString(*leaf.chunks) << "\n";
  if (leaf.write_shape) {
    std::cout << "    write shape: " << ShapeToString(*leaf.write_shape) << "\n";
  }
  if (leaf.dtype) {
    std::cout << "    compressor:  " << FormatCompressor(leaf.compressor) << "\n"
              << "    storage:     " << leaf.storage_format << ", " << leaf.chunk_files
              << " stored chunk(s), " << FormatBytes(static_cast<double>(leaf.bytes_on_disk))
              << " on disk\n";
  }
  if (!leaf.problem.empty()) std::cout << "    note:        " << leaf.problem << "\n";
}

void PrintOcdbt(const OcdbtInfo& ocdbt, bool list_keys) {
  const kvstore::OcdbtSummary& s = ocdbt.summary;
  std::size_t inline_keys = 0;
  for (const auto& key : ocdbt.keys) inline_keys += key.is_inline ? 1 : 0;
  std::cout << "OCDBT:       generation " << s.generation << ", committed "
            << FormatTimestamp(static_cast<std::int64_t>(s.commit_time_ns)) << "\n"
            << "             " << s.num_keys << " keys (" << inline_keys << " inline), tree height "
            << int(s.root_height) << ", " << FormatBytes(static_cast<double>(s.num_tree_bytes))
            << " of nodes, " << FormatBytes(static_cast<double>(s.num_indirect_value_bytes))
            << " in data files\n"
            << "             " << ocdbt.data_files.size() << " data file(s) referenced; "
            << ocdbt.process_databases.size() << " process database(s)\n";
  for (const auto& file : ocdbt.data_files) std::cout << "               " << file << "\n";
  if (!ocdbt.problem.empty()) std::cout << "             problem: " << ocdbt.problem << "\n";
  if (!list_keys) return;
  std::cout << "keys (" << ocdbt.keys.size() << "):\n";
  for (const auto& key : ocdbt.keys) {
    std::cout << "  " << key.key << "  " << key.size << " B  "
              << (key.is_inline ? std::string("inline")
                                : key.data_file + " @" + std::to_string(key.offset))
              << "\n";
  }
}

}  // namespace

Status RunInspect(const InspectOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(CheckpointInfo info, InspectCheckpoint(options.directory));
  if (options.json) {
    std::cout << CheckpointInfoToJson(info).dump(2) << "\n";
    return OkStatus();
  }
  std::cout << "checkpoint:  " << info.path.string() << "\n"
            << "format:      " << info.format << (info.finalized ? "" : " (UNFINISHED save)")
            << "\n"
            << "_METADATA:   " << (info.has_tree_metadata ? "present" : "absent (legacy layout)")
            << "\n";
  if (!info.item_handlers.is_null()) {
    std::cout << "handler:     "
              << (info.item_handlers.is_string() ? info.item_handlers.get<std::string>()
                                                 : info.item_handlers.dump())
              << "\n";
  }
  std::cout << "saved:       " << FormatTimestamp(info.init_timestamp_nsecs) << "\n"
            << "committed:   " << FormatTimestamp(info.commit_timestamp_nsecs) << "\n";
  if (!info.custom_metadata.is_null() && !info.custom_metadata.empty()) {
    std::cout << "custom:      " << info.custom_metadata.dump() << "\n";
  }
  std::cout << "size:        " << FormatBytes(static_cast<double>(info.total_bytes)) << "\n";
  if (info.ocdbt) PrintOcdbt(*info.ocdbt, options.keys);
  std::cout << "leaves (" << info.leaves.size() << "):\n";
  for (const auto& leaf : info.leaves) PrintLeaf(leaf);
  return OkStatus();
}

}  // namespace stowage::cli
