// Array leaves (from their `.zarray` / `zarr.json`) and the OCDBT database
// of a checkpoint, for InspectCheckpoint.
#include <algorithm>

#include "array/zarr3_array.h"
#include "array/zarr_array.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/inspect_internal.h"
#include "checkpoint/layout.h"
#include "zarr/dtype_names.h"
#include "zarr/zarr3_codec_spec.h"

namespace stowage::checkpoint::inspect {
namespace fs = std::filesystem;

namespace {

// The dtype string as the `.zarray` spells it.
std::string ZarrTypeString(const zarr::ZarrayMetadata& m) {
  std::string text = zarr::ZarrDTypeString(m.dtype.dtype);
  if (m.dtype.big_endian && text[0] == '<') text[0] = '>';
  return text;
}

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

}  // namespace

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

std::vector<std::string> FoundArrayNames(const ArrayLocation& where) {
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
  if (auto entries = ListFolder(dir); entries.has_value()) {
    for (const std::string& name : entries->folders) {
      if (name.starts_with(kOcdbtProcessDirPrefix)) info.process_databases.push_back(name);
    }
  }
  std::sort(info.process_databases.begin(), info.process_databases.end());
  return info;
}

}  // namespace stowage::checkpoint::inspect
