// Chunk compressors, as zarr v2 names them in a `.zarray` "compressor"
// object: zstd, zlib, gzip, blosc, lz4 (numcodecs' framing). Pure byte
// transforms: no I/O. Decoders treat their input as hostile: they never write
// or allocate more than the size the caller expects, and report anything else
// as kDataLoss.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "base/bytes.h"
#include "stowage/error.h"

namespace stowage::codec {

class Compressor {
 public:
  virtual ~Compressor() = default;

  // Compressed form of `input`. `item_size` is the array's element size
  // (blosc's shuffle uses it; others ignore it).
  virtual Result<Bytes> Encode(std::span<const std::byte> input, std::size_t item_size) const = 0;

  // Decompresses `input` into `output`, which must be filled exactly.
  // Errors: kDataLoss when `input` is corrupt, truncated, or decodes to more
  // or fewer than output.size() bytes.
  virtual Status DecodeInto(std::span<const std::byte> input,
                            std::span<std::byte> output) const = 0;

  // The zarr v2 "compressor" object, with every parameter spelled out
  // (e.g. {"id":"zstd","level":1}).
  virtual nlohmann::json ToJson() const = 0;
};

// The compressor a zarr v2 "compressor" object names, with numcodecs'
// defaults for absent parameters. Errors: kUnsupported for an unknown id,
// kInvalidArgument/kDataLoss for malformed parameters (message names the field).
// `config` must be a JSON object (JSON null is the caller's "no compression";
// see MakeCompressorOrNone).
Result<std::unique_ptr<Compressor>> MakeCompressor(const nlohmann::json& config);

// Like MakeCompressor, but JSON null (zarr v2's "no compression") yields a
// null pointer instead of an error.
Result<std::unique_ptr<Compressor>> MakeCompressorOrNone(const nlohmann::json& config);

}  // namespace stowage::codec
