// Pieces shared by the OCDBT object codecs: the configuration, the data
// file table that starts every object, and the columnar arrays of
// references and statistics (tensorstore-formats.md C4-C6).
#pragma once

#include <map>
#include <vector>

#include "kvstore/ocdbt_codec.h"
#include "kvstore/ocdbt_format.h"

namespace stowage::kvstore::ocdbt {

void WriteConfig(ByteWriter& writer, const Config& config);
Config ReadConfig(ByteReader& reader);

// Collects the files an object references, then writes the table in
// TensorStore's order (sorted by base path, then relative path).
class DataFileTableBuilder {
 public:
  void Add(const DataFileId& file) { index_.emplace(file, 0); }
  // Writes the table and fixes each file's index.
  void Write(ByteWriter& writer);
  std::uint64_t IndexOf(const DataFileId& file) const { return index_.at(file); }

 private:
  std::map<DataFileId, std::uint64_t> index_;
};

// Reads a table; `transitive_path` is prepended to every base path.
std::vector<DataFileId> ReadDataFileTable(ByteReader& reader, std::string_view transitive_path);

// The file a stored table index names (fails the reader when out of range).
DataFileId ReadFileIndex(ByteReader& reader, const std::vector<DataFileId>& table);

// Columns file index, offset, length for each reference, then (for node
// references) num_keys, num_tree_bytes, num_indirect_value_bytes.
void WriteRefs(ByteWriter& writer, const DataFileTableBuilder& table,
               std::span<const IndirectRef* const> refs);
void ReadRefs(ByteReader& reader, const std::vector<DataFileId>& table,
              std::span<IndirectRef* const> refs, bool allow_missing);
void WriteStatistics(ByteWriter& writer, std::span<const BtreeStatistics* const> stats);
void ReadStatistics(ByteReader& reader, std::span<BtreeStatistics* const> stats);

// Fails unless offset + length fits in 2^63 - 1 (or, when allowed, the
// reference is the Missing sentinel).
void ValidateRef(ByteReader& reader, const IndirectRef& ref, bool allow_missing);

}  // namespace stowage::kvstore::ocdbt
