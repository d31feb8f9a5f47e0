// The `sharding_indexed` codec (tensorstore/kvstore/zarr3_sharding_indexed/
// shard_format.cc): a shard is its inner chunks, each encoded with the inner
// codecs, plus an index of (offset, length) uint64 pairs per inner chunk in C
// order of the inner grid ((2^64-1, 2^64-1) = absent), encoded with the
// index codecs and placed at the end (default) or the start. Writers
// concatenate present inner chunks in C order; readers use the offsets.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/bytes.h"
#include "stowage/error.h"
#include "zarr/zarr3_codec.h"
#include "zarr/zarr3_codec_spec.h"

namespace stowage::zarr {

// Encoded size of a shard's index (16 bytes per inner chunk, plus 4 per
// crc32c index codec) for a shard of `shard_shape`.
std::uint64_t ShardIndexBytes(const Zarr3ShardingCodec& codec,
                              std::span<const std::int64_t> shard_shape);

// The shard holding `shard` (the decoded shard as `spec` describes it), or
// nullopt when no inner chunk is stored (all equal the fill value and
// !store_fill). REQUIRES: the inner chunk shape divides spec.shape.
Result<std::optional<Bytes>> EncodeShard(const Zarr3ShardingCodec& codec,
                                         const Zarr3ChunkSpec& spec,
                                         std::span<const std::byte> shard, bool store_fill);

// Decodes a whole shard into `out`. Errors: kDataLoss naming `where` for a
// shard shorter than its index, a checksum mismatch, an entry whose offset +
// length overflows or exceeds the shard, or a corrupt inner chunk.
Status DecodeShard(const Zarr3ShardingCodec& codec, const Zarr3ChunkSpec& spec,
                   std::span<const std::byte> stored, std::span<std::byte> out,
                   std::string_view where);

}  // namespace stowage::zarr
