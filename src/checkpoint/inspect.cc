#include "stowage/inspect.h"

#include "array/zarr3_array.h"
#include "array/zarr_array.h"
#include "checkpoint/base_pytree_handler.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/layout.h"
#include "zarr/dtype_names.h"
#include "zarr/zarr3_codec_spec.h"

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

// Where a checkpoint's arrays are: a directory, or an OCDBT database in it.
struct ArrayLocation {
  fs::path dir;
  std::shared_ptr<kvstore::Store> store;
  const kvstore::OcdbtStore* ocdbt = nullptr;
};

// Bytes and stored chunks under "<name>/" (metadata excluded).
void CountLeafBytes(const ArrayLocation& where, LeafInfo& leaf) {
  if (where.ocdbt) {
    auto entries = where.ocdbt->ListEntries(leaf.name + "/");
    if (!entries.has_value()) return;
    for (const auto& entry : *entries) {
      leaf.bytes_on_disk += entry.size;
      bool metadata = entry.key.ends_with("/.zarray") || entry.key.ends_with("/zarr.json");
      leaf.chunk_files += metadata ? 0 : 1;
    }
    return;
  }
  std::uint64_t files = 0;
  leaf.bytes_on_disk = DirectoryBytes(where.dir / leaf.name, &files);
  leaf.chunk_files = files > 0 ? files - 1 : 0;  // minus the metadata file
}

void DescribeZarr2Leaf(const ArrayLocation& where, LeafInfo& leaf) {
  auto metadata = array_io::ReadZarrayMetadata(*where.store, leaf.name);
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
}

void DescribeZarr3Leaf(const ArrayLocation& where, LeafInfo& leaf) {
  auto metadata = array_io::ReadZarr3Metadata(*where.store, leaf.name);
  if (!metadata.has_value()) {
    leaf.problem = metadata.error().ToString();
    return;
  }
  leaf.storage_format = "zarr3";
  leaf.dtype = metadata->dtype;
  leaf.zarr_dtype = std::string(DTypeName(metadata->dtype));
  leaf.shape = metadata->shape;
  leaf.chunks = metadata->chunk_shape;
  leaf.compressor = zarr::CodecChainToJson(metadata->codecs);
}

// Fills the array fields of `leaf` from its `.zarray` or `zarr.json`.
void DescribeArrayLeaf(const ArrayLocation& where, LeafInfo& leaf) {
  auto v2 = where.store->Exists(leaf.name + "/.zarray");
  auto v3 = where.store->Exists(leaf.name + "/zarr.json");
  if (v2.value_or(false)) {
    DescribeZarr2Leaf(where, leaf);
  } else if (v3.value_or(false)) {
    DescribeZarr3Leaf(where, leaf);
  } else {
    leaf.problem = where.store->Describe(leaf.name + "/.zarray") + " (or zarr.json) not found";
    return;
  }
  if (where.ocdbt && leaf.problem.empty()) leaf.storage_format += " in OCDBT";
  CountLeafBytes(where, leaf);
}

// Array names found without `_METADATA`: prefixes holding a `.zarray` or
// `zarr.json`.
std::vector<std::string> LegacyLeafNames(const ArrayLocation& where) {
  std::vector<std::string> names;
  auto keys = where.store->List("");
  if (!keys.has_value()) return names;
  for (const auto& key : *keys) {
    for (std::string_view file : {"/.zarray", "/zarr.json"}) {
      if (key.ends_with(file)) names.push_back(key.substr(0, key.size() - file.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

OcdbtInfo DescribeOcdbt(const fs::path& dir, const kvstore::OcdbtStore& store) {
  OcdbtInfo info;
  info.summary = store.Summary();
  auto keys = store.ListEntries("");
  auto files = store.DataFiles();
  if (keys.has_value() && files.has_value()) {
    info.keys = std::move(*keys);
    info.data_files = std::move(*files);
  } else {
    info.problem = (keys.has_value() ? files.error() : keys.error()).ToString();
  }
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(checkpoint::kOcdbtProcessDirPrefix))
      info.process_databases.push_back(name);
  }
  std::sort(info.process_databases.begin(), info.process_databases.end());
  return info;
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
  std::optional<tree::TreeMetadata> metadata;
  if (fs::exists(directory / checkpoint::kTreeMetadataFile, ec)) {
    checkpoint::BasePyTreeHandler reader({});
    STOWAGE_ASSIGN_OR_RETURN(metadata, reader.ReadTreeMetadata(directory));
    info.has_tree_metadata = true;
  }
  ArrayLocation where{directory, nullptr, nullptr};
  STOWAGE_ASSIGN_OR_RETURN(where.store,
                           checkpoint::OpenArrayStore(directory, metadata ? &*metadata : nullptr));
  where.ocdbt = dynamic_cast<const kvstore::OcdbtStore*>(where.store.get());
  if (where.ocdbt) info.ocdbt = DescribeOcdbt(directory, *where.ocdbt);
  bool zarr3 = metadata && metadata->use_zarr3;
  info.format = std::string(where.ocdbt ? "OCDBT + " : "") + (zarr3 ? "zarr3" : "zarr v2");
  std::vector<std::pair<std::string, const tree::TreeMetadataEntry*>> leaves;
  if (metadata) {
    for (const auto& entry : metadata->entries)
      leaves.push_back({tree::ParamName(entry.keypath), &entry});
  } else {
    for (auto& name : LegacyLeafNames(where)) leaves.push_back({name, nullptr});
  }
  for (const auto& [name, entry] : leaves) {
    LeafInfo leaf;
    leaf.name = name;
    if (entry) {
      leaf.value_type = entry->value.value_type;
      leaf.write_shape = entry->value.write_shape;
    }
    if (entry && entry->value.skip_deserialize) {
      leaf.problem = "stored in the legacy msgpack aggregate file";
    } else {
      DescribeArrayLeaf(where, leaf);
    }
    info.leaves.push_back(std::move(leaf));
  }
  return info;
}

namespace {

nlohmann::ordered_json OcdbtInfoToJson(const OcdbtInfo& info) {
  using ojson = nlohmann::ordered_json;
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
          {"problem", info.problem.empty() ? ojson() : ojson(info.problem)}};
}

}  // namespace

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
          {"leaves", leaves},
          {"ocdbt", info.ocdbt ? OcdbtInfoToJson(*info.ocdbt) : ojson()}};
}

}  // namespace stowage
