// Encoding and decoding of one zarr v3 chunk through its codec chain. In
// memory a chunk is always the full chunk shape (edge chunks padded with the
// fill value), C order, native little-endian elements.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/bytes.h"
#include "stowage/array.h"
#include "stowage/error.h"
#include "zarr/zarr3_codec_spec.h"

namespace stowage::zarr {

// The decoded form of one chunk as a codec chain sees it.
struct Zarr3ChunkSpec {
  DType dtype = DType::kUint8;
  Shape shape;                      // full chunk shape
  std::span<const std::byte> fill;  // one element: ItemSize(dtype) bytes
};

// True when every element of `chunk` equals `fill` bit for bit.
bool IsAllFill(std::span<const std::byte> chunk, std::span<const std::byte> fill);

// Stored bytes of `chunk` (NumBytes(spec.shape, spec.dtype) long), or
// nullopt when nothing should be stored: the chunk equals the fill value and
// !store_fill, or it is a shard none of whose inner chunks is stored. (The
// caller then deletes the key; TensorStore does the same.) Errors: kInternal
// or kInvalidArgument from a compressor (e.g. blosc's 2 GiB limit).
Result<std::optional<Bytes>> EncodeZarr3Chunk(const Zarr3CodecChain& chain,
                                              const Zarr3ChunkSpec& spec,
                                              std::span<const std::byte> chunk, bool store_fill);

// Decodes `stored` into `out` (NumBytes(spec.shape, spec.dtype) long).
// Shards are read by their index offsets, so any writer's layout decodes;
// absent inner chunks read as the fill value. Errors: kDataLoss naming
// `where` when `stored` is corrupt (bad checksum, index entry out of range
// or overflowing, wrong decoded size); kUnsupported for two size-changing
// bytes->bytes codecs in a row (the inner one's size would be unknown).
Status DecodeZarr3Chunk(const Zarr3CodecChain& chain, const Zarr3ChunkSpec& spec,
                        std::span<const std::byte> stored, std::span<std::byte> out,
                        std::string_view where);

// An upper bound on the stored size of one chunk that a sane writer produces
// (compressed data may grow a little); larger values are treated as corrupt.
std::uint64_t MaxStoredZarr3ChunkBytes(const Zarr3CodecChain& chain, const Zarr3ChunkSpec& spec);

}  // namespace stowage::zarr
