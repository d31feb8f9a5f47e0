// stowage layer: checkpoint
//
// Checks a whole checkpoint: every OCDBT database in it (each key's value
// read, every node's and manifest's CRC-32C checked) and every array leaf
// (every chunk read and decoded, zarr3 shard-index CRC-32Cs checked, zstd
// checksums checked where frames carry them, shapes and sizes validated),
// and says which chunks no checksum covers (docs/format.md §6).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "stowage/error.h"

namespace stowage {

// An array leaf some of whose chunks no checksum covers (uncompressed, lz4,
// blosc, or zstd frames without a content checksum, stored outside an OCDBT
// node): a flipped byte in them can change the restored values unnoticed.
struct UnverifiableLeaf {
  std::string leaf;                // param name
  std::string why;                 // e.g. "uncompressed chunks"
  std::uint64_t chunks = 0;        // how many of its chunks
  std::vector<std::string> files;  // the files holding them, relative to the checkpoint
};

struct VerifyReport {
  std::uint64_t arrays = 0;       // array leaves read back whole
  std::uint64_t array_bytes = 0;  // their decoded size
  std::uint64_t strings = 0;      // string leaves read back from `_strings.json`
  std::uint64_t skipped = 0;      // leaves stowage cannot read (legacy msgpack)
  std::uint64_t ocdbt_databases = 0;
  std::uint64_t ocdbt_keys = 0;
  std::uint64_t ocdbt_value_bytes = 0;
  std::vector<Error> problems;  // each names the file or key and what is wrong
  // Leaves read back whole whose chunks are (in part) not checksummed: not
  // a problem, but their values could not be verified.
  std::vector<UnverifiableLeaf> unverifiable;

  bool ok() const { return problems.empty(); }
};

// Verifies the checkpoint at `directory`. Problems found in its data are
// collected in the report; the Result fails only when the checkpoint cannot
// be opened at all (kNotFound, kDataLoss for a corrupt `_METADATA`).
Result<VerifyReport> VerifyCheckpoint(const std::filesystem::path& directory);

}  // namespace stowage
