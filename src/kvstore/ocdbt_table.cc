#include "kvstore/ocdbt_table.h"

#include <algorithm>
#include <cstring>

namespace stowage::kvstore::ocdbt {
namespace {

constexpr std::int32_t kMinZstdLevel = -131072;
constexpr std::int32_t kMaxZstdLevel = 22;

std::uint64_t ReadPathLength(ByteReader& reader) {
  return reader.VarintAtMost(0xffff, "path length");
}

}  // namespace

BtreeStatistics& BtreeStatistics::operator+=(const BtreeStatistics& other) {
  auto add = [](std::uint64_t& a, std::uint64_t b) {
    if (__builtin_add_overflow(a, b, &a)) a = std::numeric_limits<std::uint64_t>::max();
  };
  add(num_keys, other.num_keys);
  add(num_tree_bytes, other.num_tree_bytes);
  add(num_indirect_value_bytes, other.num_indirect_value_bytes);
  return *this;
}

void WriteConfig(ByteWriter& writer, const Config& config) {
  writer.Append(std::as_bytes(std::span(config.uuid)));
  writer.Byte(static_cast<std::uint8_t>(config.manifest_kind));
  writer.Varint(config.max_inline_value_bytes);
  writer.Varint(config.max_decoded_node_bytes);
  writer.Byte(config.version_tree_arity_log2);
  writer.Varint(config.zstd_level ? 1 : 0);
  if (config.zstd_level) writer.U32Le(static_cast<std::uint32_t>(*config.zstd_level));
}

Config ReadConfig(ByteReader& reader) {
  Config config;
  auto uuid = reader.Take(16);
  if (!uuid.empty()) std::memcpy(config.uuid.data(), uuid.data(), 16);
  std::uint8_t kind = reader.Byte();
  if (kind > 1) reader.Fail("manifest_kind " + std::to_string(kind) + " is not 0 or 1");
  config.manifest_kind = static_cast<ManifestKind>(kind);
  config.max_inline_value_bytes = static_cast<std::uint32_t>(
      reader.VarintAtMost(kMaxInlineValueLength, "max_inline_value_bytes"));
  config.max_decoded_node_bytes =
      static_cast<std::uint32_t>(reader.VarintAtMost(0xffffffff, "max_decoded_node_bytes"));
  config.version_tree_arity_log2 = reader.Byte();
  if (reader.ok() && (config.version_tree_arity_log2 < 1 || config.version_tree_arity_log2 > 16)) {
    reader.Fail("version_tree_arity_log2 " + std::to_string(config.version_tree_arity_log2) +
                " is outside [1, 16]");
  }
  std::uint64_t method = reader.Varint64();
  if (method == 0) {
    config.zstd_level.reset();
  } else if (method == 1) {
    auto level = static_cast<std::int32_t>(reader.U32Le());
    if (level < kMinZstdLevel || level > kMaxZstdLevel) {
      reader.Fail("zstd level " + std::to_string(level) + " is out of range");
    }
    config.zstd_level = level;
  } else {
    reader.Fail("unknown compression method " + std::to_string(method));
  }
  return config;
}

void DataFileTableBuilder::Write(ByteWriter& writer) {
  writer.Varint(index_.size());
  std::uint64_t i = 0;
  for (auto& [file, index] : index_) index = i++;
  std::vector<std::size_t> prefix;
  const DataFileId* previous = nullptr;
  for (const auto& [file, index] : index_) {
    if (previous != nullptr) {
      prefix.push_back(previous->base_path == file.base_path
                           ? file.base_path.size() +
                                 CommonPrefixLength(previous->relative_path, file.relative_path)
                           : CommonPrefixLength(previous->base_path, file.base_path));
    }
    previous = &file;
  }
  for (std::size_t length : prefix) writer.Varint(length);
  std::size_t k = 0;
  for (const auto& [file, index] : index_) {
    writer.Varint(file.FullPath().size() - (index == 0 ? 0 : prefix[k++]));
  }
  for (const auto& [file, index] : index_) writer.Varint(file.base_path.size());
  k = 0;
  for (const auto& [file, index] : index_) {
    writer.Append(std::string_view(file.FullPath()).substr(index == 0 ? 0 : prefix[k++]));
  }
}

std::vector<DataFileId> ReadDataFileTable(ByteReader& reader, std::string_view transitive_path) {
  std::uint64_t count = reader.Varint64();
  // Each file takes at least two bytes (suffix and base length).
  if (count > reader.remaining() / 2) {
    reader.Fail("data file table claims " + std::to_string(count) + " files");
    return {};
  }
  std::vector<std::uint64_t> prefix(count, 0), suffix(count), base(count);
  for (std::uint64_t i = 1; i < count; ++i) prefix[i] = ReadPathLength(reader);
  for (auto& length : suffix) length = ReadPathLength(reader);
  for (auto& length : base) length = ReadPathLength(reader);
  const std::size_t max_path = kMaxPathLength - transitive_path.size();
  std::vector<DataFileId> files;
  std::string previous_path;
  for (std::uint64_t i = 0; i < count && reader.ok(); ++i) {
    std::string label = "data file " + std::to_string(i) + ": ";
    if (prefix[i] > previous_path.size()) {
      reader.Fail(label + "prefix length exceeds the previous path");
    } else if (prefix[i] + suffix[i] > max_path) {
      reader.Fail(label + "path longer than " + std::to_string(max_path) + " bytes");
    } else if (base[i] > prefix[i] + suffix[i]) {
      reader.Fail(label + "base path longer than the path");
    } else if (i > 0 && prefix[i] > std::min(base[i - 1], base[i]) && base[i] != base[i - 1]) {
      reader.Fail(label + "shares more than the base path with a different base");
    }
    auto bytes = reader.Take(suffix[i]);
    if (!reader.ok()) break;
    std::string path = previous_path.substr(0, prefix[i]);
    path.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    files.push_back({std::string(transitive_path) + path.substr(0, base[i]), path.substr(base[i])});
    previous_path = std::move(path);
  }
  return files;
}

DataFileId ReadFileIndex(ByteReader& reader, const std::vector<DataFileId>& table) {
  std::uint64_t index = reader.Varint64();
  if (!reader.ok()) return {};
  if (index >= table.size()) {
    reader.Fail("data file index " + std::to_string(index) + " is outside the table of " +
                std::to_string(table.size()));
    return {};
  }
  return table[index];
}

void WriteRefs(ByteWriter& writer, const DataFileTableBuilder& table,
               std::span<const IndirectRef* const> refs) {
  for (const auto* ref : refs) writer.Varint(table.IndexOf(ref->file));
  for (const auto* ref : refs) writer.Varint(ref->offset);
  for (const auto* ref : refs) writer.Varint(ref->length);
}

void ValidateRef(ByteReader& reader, const IndirectRef& ref, bool allow_missing) {
  if (allow_missing && ref.IsMissing()) return;
  std::uint64_t end;
  if (__builtin_add_overflow(ref.offset, ref.length, &end) ||
      end > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    reader.Fail("invalid offset/length pair " + std::to_string(ref.offset) + "/" +
                std::to_string(ref.length) + " in " + ref.file.FullPath());
  }
}

void ReadRefs(ByteReader& reader, const std::vector<DataFileId>& table,
              std::span<IndirectRef* const> refs, bool allow_missing) {
  for (auto* ref : refs) ref->file = ReadFileIndex(reader, table);
  for (auto* ref : refs) ref->offset = reader.Varint64();
  for (auto* ref : refs) ref->length = reader.Varint64();
  for (auto* ref : refs) ValidateRef(reader, *ref, allow_missing);
}

void WriteStatistics(ByteWriter& writer, std::span<const BtreeStatistics* const> stats) {
  for (const auto* s : stats) writer.Varint(s->num_keys);
  for (const auto* s : stats) writer.Varint(s->num_tree_bytes);
  for (const auto* s : stats) writer.Varint(s->num_indirect_value_bytes);
}

void ReadStatistics(ByteReader& reader, std::span<BtreeStatistics* const> stats) {
  for (auto* s : stats) s->num_keys = reader.Varint64();
  for (auto* s : stats) s->num_tree_bytes = reader.Varint64();
  for (auto* s : stats) s->num_indirect_value_bytes = reader.Varint64();
}

}  // namespace stowage::kvstore::ocdbt
