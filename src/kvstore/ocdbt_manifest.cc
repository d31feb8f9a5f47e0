// Manifests and version-tree nodes (tensorstore-formats.md C7, C8;
// tensorstore/kvstore/ocdbt/format/manifest.cc, version_tree.cc).
#include <algorithm>

#include "kvstore/ocdbt_table.h"

namespace stowage::kvstore::ocdbt {
namespace {

std::uint64_t MaxVersionTreeHeight(std::uint8_t arity_log2) { return 63 / arity_log2 - 1; }

std::uint64_t ReadCount(ByteReader& reader, std::uint64_t min, std::uint64_t max,
                        std::string_view what) {
  std::uint64_t count = reader.Varint64();
  if (reader.ok() && (count < min || count > max)) {
    reader.Fail(std::string(what) + " count " + std::to_string(count) + " is outside [" +
                std::to_string(min) + ", " + std::to_string(max) + "]");
    return 0;
  }
  return count;
}

void WriteVersions(ByteWriter& writer, const DataFileTableBuilder& table,
                   const std::vector<Version>& versions) {
  writer.Varint(versions.size());
  for (const auto& v : versions) writer.Varint(v.generation);
  for (const auto& v : versions) writer.Byte(v.root_height);
  std::vector<const IndirectRef*> refs;
  std::vector<const BtreeStatistics*> stats;
  for (const auto& v : versions) {
    refs.push_back(&v.root.location);
    stats.push_back(&v.root.statistics);
  }
  WriteRefs(writer, table, refs);
  WriteStatistics(writer, stats);
  for (const auto& v : versions) writer.U64Le(v.commit_time);
}

void ValidateVersions(ByteReader& reader, const std::vector<Version>& versions,
                      std::uint8_t arity_log2) {
  for (std::size_t i = 0; i < versions.size() && reader.ok(); ++i) {
    const Version& v = versions[i];
    if (v.generation == 0) reader.Fail("generation number 0");
    if (i > 0 && v.generation <= versions[i - 1].generation) {
      reader.Fail("generation numbers are not increasing");
    }
    if (v.root.location.IsMissing() &&
        (v.root_height != 0 || !(v.root.statistics == BtreeStatistics{}))) {
      reader.Fail("an empty root must have height 0 and no statistics");
    }
  }
  if (!reader.ok() || versions.empty()) return;
  std::uint64_t last = versions.back().generation;
  std::uint64_t first_in_block = last - ((last - 1) & ((std::uint64_t{1} << arity_log2) - 1));
  if (versions.front().generation < first_in_block) {
    reader.Fail("versions span more than one version-tree leaf");
  }
}

std::vector<Version> ReadVersions(ByteReader& reader, const std::vector<DataFileId>& table,
                                  std::uint8_t arity_log2) {
  std::uint64_t count = ReadCount(reader, 1, std::uint64_t{1} << arity_log2, "version");
  std::vector<Version> versions(count);
  for (auto& v : versions) v.generation = reader.Varint64();
  for (auto& v : versions) v.root_height = reader.Byte();
  std::vector<IndirectRef*> refs;
  std::vector<BtreeStatistics*> stats;
  for (auto& v : versions) {
    refs.push_back(&v.root.location);
    stats.push_back(&v.root.statistics);
  }
  ReadRefs(reader, table, refs, /*allow_missing=*/true);
  ReadStatistics(reader, stats);
  for (auto& v : versions) v.commit_time = reader.U64Le();
  ValidateVersions(reader, versions, arity_log2);
  return versions;
}

void WriteVersionNodeRefs(ByteWriter& writer, const DataFileTableBuilder& table,
                          const std::vector<VersionNodeRef>& refs, bool with_height) {
  writer.Varint(refs.size());
  for (const auto& r : refs) writer.Varint(r.generation);
  std::vector<const IndirectRef*> locations;
  for (const auto& r : refs) locations.push_back(&r.location);
  WriteRefs(writer, table, locations);
  for (const auto& r : refs) writer.Varint(r.num_generations);
  for (const auto& r : refs) writer.U64Le(r.commit_time);
  if (with_height) {
    for (const auto& r : refs) writer.Byte(r.height);
  }
}

std::vector<VersionNodeRef> ReadVersionNodeRefs(ByteReader& reader,
                                                const std::vector<DataFileId>& table,
                                                std::uint64_t min, std::uint64_t max,
                                                bool with_height) {
  std::uint64_t count = ReadCount(reader, min, max, "version-tree child");
  std::vector<VersionNodeRef> refs(count);
  for (auto& r : refs) r.generation = reader.Varint64();
  std::vector<IndirectRef*> locations;
  for (auto& r : refs) locations.push_back(&r.location);
  ReadRefs(reader, table, locations, /*allow_missing=*/false);
  for (auto& r : refs) r.num_generations = reader.Varint64();
  for (auto& r : refs) r.commit_time = reader.U64Le();
  if (with_height) {
    for (auto& r : refs) r.height = reader.Byte();
  }
  return refs;
}

void AddFiles(DataFileTableBuilder& table, const std::vector<Version>& versions,
              const std::vector<VersionNodeRef>& nodes) {
  for (const auto& v : versions) table.Add(v.root.location.file);
  for (const auto& n : nodes) table.Add(n.location.file);
}

// Fails the reader with `path` prepended when anything went wrong.
template <typename T>
Result<T> Finish(ByteReader& reader, T value, std::string_view path, std::string_view what) {
  if (reader.ok() && reader.remaining() != 0) {
    reader.Fail(std::to_string(reader.remaining()) + " unexpected bytes after the " +
                std::string(what));
  }
  if (!reader.ok()) {
    return DataLossError(std::string(path) + ": corrupt " + std::string(what) + ": " +
                         reader.error());
  }
  return value;
}

}  // namespace

Result<Bytes> EncodeManifest(const Manifest& manifest) {
  ByteWriter writer;
  WriteConfig(writer, manifest.config);
  if (manifest.config.manifest_kind == ManifestKind::kNumbered) {  // config only
    return EncodeEnvelope(kManifestMagic, writer.bytes(), manifest.config.zstd_level);
  }
  DataFileTableBuilder table;
  AddFiles(table, manifest.versions, manifest.version_tree_nodes);
  table.Write(writer);
  WriteVersions(writer, table, manifest.versions);
  WriteVersionNodeRefs(writer, table, manifest.version_tree_nodes, /*with_height=*/true);
  return EncodeEnvelope(kManifestMagic, writer.bytes(), manifest.config.zstd_level);
}

Result<Manifest> DecodeManifest(std::span<const std::byte> encoded, std::string_view path) {
  STOWAGE_ASSIGN_OR_RETURN(Bytes body,
                           DecodeEnvelope(encoded, kManifestMagic, kMaxDecodedObjectBytes, path));
  ByteReader reader(body);
  Manifest manifest;
  manifest.config = ReadConfig(reader);
  if (reader.ok() && manifest.config.manifest_kind == ManifestKind::kNumbered) {
    return Finish(reader, std::move(manifest), path, "manifest");
  }
  auto table = ReadDataFileTable(reader, "");
  std::uint8_t arity = manifest.config.version_tree_arity_log2;
  if (reader.ok()) manifest.versions = ReadVersions(reader, table, arity);
  if (reader.ok()) {
    manifest.version_tree_nodes =
        ReadVersionNodeRefs(reader, table, 0, MaxVersionTreeHeight(arity), /*with_height=*/true);
  }
  for (const auto& node : manifest.version_tree_nodes) {
    if (reader.ok() && node.generation >= manifest.versions.front().generation) {
      reader.Fail("version-tree node overlaps the inline versions");
    }
  }
  return Finish(reader, std::move(manifest), path, "manifest");
}

Result<Bytes> EncodeVersionNode(const Config& config, const VersionNode& node) {
  ByteWriter writer;
  writer.Byte(node.version_tree_arity_log2);
  writer.Byte(node.height);
  DataFileTableBuilder table;
  AddFiles(table, node.versions, node.children);
  table.Write(writer);
  if (node.height == 0) {
    WriteVersions(writer, table, node.versions);
  } else {
    WriteVersionNodeRefs(writer, table, node.children, /*with_height=*/false);
  }
  return EncodeEnvelope(kVersionNodeMagic, writer.bytes(), config.zstd_level);
}

Result<VersionNode> DecodeVersionNode(std::span<const std::byte> encoded,
                                      std::string_view base_path, std::string_view path) {
  STOWAGE_ASSIGN_OR_RETURN(
      Bytes body, DecodeEnvelope(encoded, kVersionNodeMagic, kMaxDecodedObjectBytes, path));
  ByteReader reader(body);
  VersionNode node;
  node.version_tree_arity_log2 = reader.Byte();
  node.height = reader.Byte();
  std::uint8_t arity = node.version_tree_arity_log2;
  if (reader.ok() && (arity < 1 || arity > 16)) reader.Fail("bad version_tree_arity_log2");
  if (reader.ok() && node.height > MaxVersionTreeHeight(arity)) reader.Fail("height too large");
  auto table = ReadDataFileTable(reader, base_path);
  if (!reader.ok()) return Finish(reader, std::move(node), path, "version-tree node");
  if (node.height == 0) {
    node.versions = ReadVersions(reader, table, arity);
  } else {
    node.children =
        ReadVersionNodeRefs(reader, table, 1, std::uint64_t{1} << arity, /*with_height=*/false);
    for (auto& child : node.children) child.height = node.height - 1;
  }
  return Finish(reader, std::move(node), path, "version-tree node");
}

}  // namespace stowage::kvstore::ocdbt
