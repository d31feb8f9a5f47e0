// Encoding and decoding of one zarr v2 chunk: the bytes of a full chunk
// (edge chunks padded to full size) in the `.zarray`'s order and byte order,
// then compressed by its compressor. In memory stowage always uses C order
// and little-endian elements.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "base/bytes.h"
#include "codec/compressor.h"
#include "zarr/zarray.h"

namespace stowage::zarr {

class ChunkCodec {
 public:
  // Errors: kUnsupported/kDataLoss for a compressor stowage cannot build,
  // naming `path` (the `.zarray`).
  static Result<ChunkCodec> Make(const ZarrayMetadata& metadata, std::string_view path);

  // True when a chunk is stored exactly as its in-memory bytes (no
  // compressor, C order, little-endian): callers may then skip Encode and
  // DecodeInto and move the bytes directly.
  bool is_identity() const { return !compressor_ && !big_endian_ && !fortran_order_; }

  // Bytes of one decoded full chunk.
  std::size_t chunk_bytes() const { return chunk_bytes_; }

  // Stored form of `chunk` (C order, little-endian, chunk_bytes() long).
  Result<Bytes> Encode(std::span<const std::byte> chunk) const;

  // Decodes `stored` into `out` (chunk_bytes() long, C order, little-endian).
  // Errors: kDataLoss naming `key_path` when `stored` is corrupt or does not
  // decode to exactly one chunk.
  Status DecodeInto(std::span<const std::byte> stored, std::span<std::byte> out,
                    std::string_view key_path) const;

 private:
  ChunkCodec() = default;
  Status ToStoredLayout(std::span<std::byte> chunk) const;
  Status FromStoredLayout(std::span<std::byte> chunk) const;

  std::shared_ptr<const codec::Compressor> compressor_;  // null: raw
  Shape chunks_;
  DType dtype_ = DType::kUint8;
  bool big_endian_ = false;
  bool fortran_order_ = false;
  std::size_t chunk_bytes_ = 0;
};

}  // namespace stowage::zarr
