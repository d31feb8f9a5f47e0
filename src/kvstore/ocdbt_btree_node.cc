// B+tree nodes (tensorstore-formats.md C9; tensorstore/kvstore/ocdbt/format/
// btree.cc, btree_codec.h): height, data file table, then columns of keys
// and of values (leaf) or child references (interior).
#include <algorithm>

#include "kvstore/ocdbt_table.h"

namespace stowage::kvstore::ocdbt {
namespace {

template <typename Entry>
void WriteKeys(ByteWriter& writer, const std::vector<Entry>& entries) {
  for (std::size_t i = 1; i < entries.size(); ++i) {
    writer.Varint(CommonPrefixLength(entries[i - 1].key, entries[i].key));
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::size_t prefix = i == 0 ? 0 : CommonPrefixLength(entries[i - 1].key, entries[i].key);
    writer.Varint(entries[i].key.size() - prefix);
  }
  if constexpr (std::is_same_v<Entry, InteriorEntry>) {
    for (const auto& e : entries) writer.Varint(e.subtree_common_prefix_length);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::size_t prefix = i == 0 ? 0 : CommonPrefixLength(entries[i - 1].key, entries[i].key);
    writer.Append(std::string_view(entries[i].key).substr(prefix));
  }
}

template <typename Entry>
void ReadKeys(ByteReader& reader, std::vector<Entry>& entries) {
  std::size_t n = entries.size();
  std::vector<std::uint64_t> prefix(n, 0), suffix(n);
  for (std::size_t i = 1; i < n; ++i) prefix[i] = reader.VarintAtMost(kMaxKeyLength, "key prefix");
  for (auto& length : suffix) length = reader.VarintAtMost(kMaxKeyLength, "key suffix");
  if constexpr (std::is_same_v<Entry, InteriorEntry>) {
    for (auto& e : entries) {
      e.subtree_common_prefix_length = reader.VarintAtMost(kMaxKeyLength, "subtree prefix");
    }
  }
  for (std::size_t i = 0; i < n && reader.ok(); ++i) {
    std::string label = "entry " + std::to_string(i) + ": ";
    std::string_view previous = i == 0 ? std::string_view() : entries[i - 1].key;
    if (prefix[i] > previous.size()) {
      return reader.Fail(label + "key prefix longer than the previous key");
    }
    if (prefix[i] + suffix[i] > kMaxKeyLength) return reader.Fail(label + "key too long");
    auto bytes = reader.Take(suffix[i]);
    if (!reader.ok()) return;
    std::string_view tail(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (i > 0 && previous.substr(prefix[i]) >= tail) {
      return reader.Fail(label + "keys are not strictly increasing");
    }
    entries[i].key = std::string(previous.substr(0, prefix[i])).append(tail);
    if constexpr (std::is_same_v<Entry, InteriorEntry>) {
      if (entries[i].subtree_common_prefix_length > entries[i].key.size()) {
        return reader.Fail(label + "subtree common prefix longer than the key");
      }
    }
  }
}

void WriteLeafValues(ByteWriter& writer, const DataFileTableBuilder& table,
                     const std::vector<LeafEntry>& entries) {
  for (const auto& e : entries) {
    const auto* ref = std::get_if<IndirectRef>(&e.value);
    writer.Varint(ref ? ref->length : std::get<Bytes>(e.value).size());
  }
  for (const auto& e : entries) writer.Byte(std::holds_alternative<IndirectRef>(e.value) ? 1 : 0);
  for (const auto& e : entries) {
    if (const auto* ref = std::get_if<IndirectRef>(&e.value))
      writer.Varint(table.IndexOf(ref->file));
  }
  for (const auto& e : entries) {
    if (const auto* ref = std::get_if<IndirectRef>(&e.value)) writer.Varint(ref->offset);
  }
  for (const auto& e : entries) {
    if (const auto* bytes = std::get_if<Bytes>(&e.value)) writer.Append(*bytes);
  }
}

void ReadLeafValues(ByteReader& reader, const std::vector<DataFileId>& table,
                    std::vector<LeafEntry>& entries) {
  std::vector<std::uint64_t> lengths(entries.size());
  for (auto& length : lengths) length = reader.Varint64();
  for (std::size_t i = 0; i < entries.size() && reader.ok(); ++i) {
    std::uint8_t kind = reader.Byte();
    if (kind > 1) return reader.Fail("value_kind " + std::to_string(kind) + " is not 0 or 1");
    if (kind == 0 && lengths[i] > kMaxInlineValueLength) {
      return reader.Fail("inline value of " + std::to_string(lengths[i]) + " bytes is too long");
    }
    if (kind == 1) entries[i].value = IndirectRef{{}, 0, lengths[i]};
  }
  for (auto& e : entries) {
    if (auto* ref = std::get_if<IndirectRef>(&e.value)) ref->file = ReadFileIndex(reader, table);
  }
  for (auto& e : entries) {
    if (auto* ref = std::get_if<IndirectRef>(&e.value)) {
      ref->offset = reader.Varint64();
      ValidateRef(reader, *ref, /*allow_missing=*/false);
    }
  }
  for (std::size_t i = 0; i < entries.size() && reader.ok(); ++i) {
    if (auto* bytes = std::get_if<Bytes>(&entries[i].value)) {
      auto data = reader.Take(lengths[i]);
      bytes->assign(data.begin(), data.end());
    }
  }
}

void WriteChildren(ByteWriter& writer, const DataFileTableBuilder& table,
                   const std::vector<InteriorEntry>& entries) {
  std::vector<const IndirectRef*> refs;
  std::vector<const BtreeStatistics*> stats;
  for (const auto& e : entries) {
    refs.push_back(&e.child.location);
    stats.push_back(&e.child.statistics);
  }
  WriteRefs(writer, table, refs);
  WriteStatistics(writer, stats);
}

void ReadChildren(ByteReader& reader, const std::vector<DataFileId>& table,
                  std::vector<InteriorEntry>& entries) {
  std::vector<IndirectRef*> refs;
  std::vector<BtreeStatistics*> stats;
  for (auto& e : entries) {
    refs.push_back(&e.child.location);
    stats.push_back(&e.child.statistics);
  }
  ReadRefs(reader, table, refs, /*allow_missing=*/false);
  ReadStatistics(reader, stats);
}

}  // namespace

Result<Bytes> EncodeBtreeNode(const Config& config, const BtreeNode& node) {
  ByteWriter writer;
  writer.Byte(node.height);
  DataFileTableBuilder table;
  for (const auto& e : node.leaves) {
    if (const auto* ref = std::get_if<IndirectRef>(&e.value)) table.Add(ref->file);
  }
  for (const auto& e : node.children) table.Add(e.child.location.file);
  table.Write(writer);
  if (node.height == 0) {
    writer.Varint(node.leaves.size());
    WriteKeys(writer, node.leaves);
    WriteLeafValues(writer, table, node.leaves);
  } else {
    writer.Varint(node.children.size());
    WriteKeys(writer, node.children);
    WriteChildren(writer, table, node.children);
  }
  return EncodeEnvelope(kBtreeNodeMagic, writer.bytes(), config.zstd_level);
}

Result<BtreeNode> DecodeBtreeNode(std::span<const std::byte> encoded, std::string_view base_path,
                                  std::string_view path) {
  STOWAGE_ASSIGN_OR_RETURN(Bytes body,
                           DecodeEnvelope(encoded, kBtreeNodeMagic, kMaxDecodedObjectBytes, path));
  ByteReader reader(body);
  BtreeNode node;
  node.height = reader.Byte();
  auto table = ReadDataFileTable(reader, base_path);
  std::uint64_t count = reader.Varint64();
  if (reader.ok() && (count == 0 || count > kMaxNodeArity || count > reader.remaining())) {
    reader.Fail(count == 0 ? "empty B+tree node"
                           : "entry count " + std::to_string(count) + " is impossible");
  }
  if (reader.ok() && node.height == 0) {
    node.leaves.resize(count);
    ReadKeys(reader, node.leaves);
    ReadLeafValues(reader, table, node.leaves);
  } else if (reader.ok()) {
    node.children.resize(count);
    ReadKeys(reader, node.children);
    ReadChildren(reader, table, node.children);
  }
  if (reader.ok() && reader.remaining() != 0) {
    reader.Fail(std::to_string(reader.remaining()) + " unexpected bytes after the node");
  }
  if (!reader.ok()) {
    return DataLossError(std::string(path) + ": corrupt B+tree node: " + reader.error());
  }
  return node;
}

}  // namespace stowage::kvstore::ocdbt
