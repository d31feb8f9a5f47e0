#include "stowage/inspect.h"

#include "array/zarr_array.h"
#include "checkpoint/base_pytree_handler.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/layout.h"
#include "zarr/dtype_names.h"

namespace stowage {
namespace fs = std::filesystem;

namespace {

// The dtype string as the `.zarray` spells it.
std::string ZarrTypeString(const zarr::ZarrayMetadata& m) {
  std::string text = zarr::ZarrDTypeString(m.dtype.dtype);
  if (m.dtype.big_endian && text[0] == '<') text[0] = '>';
  return text;
}

std::uint64_t DirectoryBytes(const fs::path& dir, std::uint64_t* files) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      bytes += it->file_size(ec);
      if (files) ++*files;
    }
  }
  return bytes;
}

void ReadCheckpointMetadataInto(const fs::path& dir, CheckpointInfo& info) {
  // Absent or unreadable: the fields stay empty; inspect reports what it can.
  auto parsed = checkpoint::ReadCheckpointMetadata(dir);
  if (!parsed.has_value()) return;
  info.item_handlers = parsed->item_handlers;
  info.init_timestamp_nsecs = parsed->init_timestamp_nsecs;
  info.commit_timestamp_nsecs = parsed->commit_timestamp_nsecs;
  info.custom_metadata = parsed->custom_metadata;
}

// Fills the `.zarray`-derived fields of `leaf` for a plain zarr v2 layout.
void DescribeZarrLeaf(const fs::path& dir, LeafInfo& leaf) {
  auto store = kvstore::OpenFileStore(dir);
  auto metadata = array_io::ReadZarrayMetadata(*store, leaf.name);
  if (!metadata.has_value()) {
    leaf.problem = metadata.error().ToString();
    return;
  }
  leaf.storage_format = "zarr v2";
  leaf.dtype = metadata->dtype.dtype;
  leaf.zarr_dtype = ZarrTypeString(*metadata);
  leaf.shape = metadata->shape;
  leaf.chunks = metadata->chunks;
  leaf.compressor = metadata->compressor;
  std::uint64_t files = 0;
  leaf.bytes_on_disk = DirectoryBytes(dir / leaf.name, &files);
  leaf.chunk_files = files > 0 ? files - 1 : 0;  // minus `.zarray`
}

std::vector<std::string> LegacyLeafNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->path().filename() == ".zarray") {
      names.push_back(it->path().parent_path().lexically_relative(dir).generic_string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<CheckpointInfo> InspectCheckpoint(const fs::path& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return NotFoundError("checkpoint at " + directory.string() + " not found");
  }
  CheckpointInfo info;
  info.path = directory;
  info.finalized = !checkpoint::IsTemporaryDir(directory);
  ReadCheckpointMetadataInto(directory, info);
  info.total_bytes = DirectoryBytes(directory, nullptr);
  bool ocdbt = fs::exists(directory / checkpoint::kOcdbtManifestFile, ec);
  std::optional<tree::TreeMetadata> metadata;
  if (fs::exists(directory / checkpoint::kTreeMetadataFile, ec)) {
    checkpoint::BasePyTreeHandler reader({});
    STOWAGE_ASSIGN_OR_RETURN(metadata, reader.ReadTreeMetadata(directory));
    info.has_tree_metadata = true;
    if (metadata->use_ocdbt) ocdbt = *metadata->use_ocdbt;
  }
  bool zarr3 = metadata && metadata->use_zarr3;
  info.format = std::string(ocdbt ? "OCDBT + " : "") + (zarr3 ? "zarr3" : "zarr v2");
  std::vector<std::pair<std::string, const tree::TreeMetadataEntry*>> leaves;
  if (metadata) {
    for (const auto& entry : metadata->entries)
      leaves.push_back({tree::ParamName(entry.keypath), &entry});
  } else {
    for (auto& name : LegacyLeafNames(directory)) leaves.push_back({name, nullptr});
  }
  for (const auto& [name, entry] : leaves) {
    LeafInfo leaf;
    leaf.name = name;
    if (entry) {
      leaf.value_type = entry->value.value_type;
      leaf.write_shape = entry->value.write_shape;
    }
    if (ocdbt || zarr3) {
      leaf.storage_format = info.format;
      leaf.problem = "array details need OCDBT/zarr3 support, not in this version";
    } else if (entry && entry->value.skip_deserialize) {
      leaf.problem = "stored in the legacy msgpack aggregate file";
    } else {
      DescribeZarrLeaf(directory, leaf);
    }
    info.leaves.push_back(std::move(leaf));
  }
  return info;
}

nlohmann::ordered_json CheckpointInfoToJson(const CheckpointInfo& info) {
  using ojson = nlohmann::ordered_json;
  auto optional_int = [](const std::optional<std::int64_t>& v) { return v ? ojson(*v) : ojson(); };
  ojson leaves = ojson::array();
  for (const auto& leaf : info.leaves) {
    ojson item = {{"name", leaf.name}, {"value_type", leaf.value_type}};
    if (leaf.write_shape) item["write_shape"] = *leaf.write_shape;
    if (leaf.dtype) item["dtype"] = std::string(DTypeName(*leaf.dtype));
    if (!leaf.zarr_dtype.empty()) item["zarr_dtype"] = leaf.zarr_dtype;
    if (leaf.shape) item["shape"] = *leaf.shape;
    if (leaf.chunks) item["chunks"] = *leaf.chunks;
    if (leaf.dtype) item["compressor"] = leaf.compressor;
    item["storage_format"] = leaf.storage_format;
    item["bytes_on_disk"] = leaf.bytes_on_disk;
    item["chunk_files"] = leaf.chunk_files;
    if (!leaf.problem.empty()) item["problem"] = leaf.problem;
    leaves.push_back(std::move(item));
  }
  return {{"path", info.path.string()},
          {"format", info.format},
          {"finalized", info.finalized},
          {"has_tree_metadata", info.has_tree_metadata},
          {"item_handlers", info.item_handlers},
          {"init_timestamp_nsecs", optional_int(info.init_timestamp_nsecs)},
          {"commit_timestamp_nsecs", optional_int(info.commit_timestamp_nsecs)},
          {"custom_metadata", info.custom_metadata},
          {"total_bytes", info.total_bytes},
          {"leaves", leaves}};
}

}  // namespace stowage
