#include "zarr/zarr3_sharding.h"

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace stowage::zarr {
namespace {

constexpr std::uint64_t kMissing = std::numeric_limits<std::uint64_t>::max();

// Where the inner chunks of a shard lie.
struct InnerGrid {
  Shape grid;   // inner chunks per dimension
  Shape chunk;  // inner chunk shape
  std::int64_t count = 1;

  InnerGrid(const Shape& shard_shape, const Shape& chunk_shape)
      : grid(shard_shape.size()), chunk(chunk_shape) {
    for (std::size_t i = 0; i < grid.size(); ++i) {
      grid[i] = shard_shape[i] / chunk_shape[i];
      count *= grid[i];
    }
  }

  // Origin (in elements) of inner chunk number `linear` (C order).
  Shape Origin(std::int64_t linear) const {
    Shape origin(grid.size());
    for (std::size_t k = grid.size(); k-- > 0;) {
      origin[k] = (linear % grid[k]) * chunk[k];
      linear /= grid[k];
    }
    return origin;
  }
};

// Copies the box of `box_shape` at `origin` of a C-order array of `shape`
// to or from a dense buffer, one contiguous row at a time.
void CopyBox(std::span<const std::byte> src, std::span<std::byte> dst, const Shape& shape,
             const Shape& origin, const Shape& box_shape, std::size_t item, bool gather) {
  std::size_t rank = shape.size();
  if (rank == 0) {
    std::memcpy(dst.data(), src.data(), item);
    return;
  }
  std::size_t row = static_cast<std::size_t>(box_shape[rank - 1]) * item;
  std::vector<std::int64_t> stride(rank), index(rank, 0);
  std::int64_t s = 1;
  for (std::size_t k = rank; k-- > 0;) {
    stride[k] = s;
    s *= shape[k];
  }
  std::int64_t rows = 1;
  for (std::size_t k = 0; k + 1 < rank; ++k) rows *= box_shape[k];
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t big = 0;
    for (std::size_t k = 0; k < rank; ++k) big += (origin[k] + index[k]) * stride[k];
    std::size_t big_offset = static_cast<std::size_t>(big) * item, dense_offset = r * row;
    if (gather) {
      std::memcpy(&dst[dense_offset], &src[big_offset], row);
    } else {
      std::memcpy(&dst[big_offset], &src[dense_offset], row);
    }
    for (std::size_t k = rank - 1; k-- > 0;) {
      if (++index[k] < box_shape[k]) break;
      index[k] = 0;
    }
  }
}

Zarr3ChunkSpec IndexSpec(const InnerGrid& g, const std::uint64_t& missing) {
  Shape shape = g.grid;
  shape.push_back(2);
  return {DType::kUint64, std::move(shape), std::as_bytes(std::span(&missing, 1))};
}

std::uint64_t LoadU64(std::span<const std::byte> bytes, std::size_t i) {
  std::uint64_t v;
  std::memcpy(&v, &bytes[i * 8], 8);  // native little-endian, as decoded
  return v;
}

// Checks entry `i` as TensorStore's ShardIndexEntry::Validate does.
Status ValidateEntry(std::int64_t i, std::uint64_t offset, std::uint64_t length,
                     std::uint64_t shard_size, std::string_view where) {
  if (offset > std::uint64_t(std::numeric_limits<std::int64_t>::max()) - length ||
      length > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
    return DataLossError(std::string(where) + ": invalid shard index entry " + std::to_string(i) +
                         " with offset=" + std::to_string(offset) +
                         ", length=" + std::to_string(length));
  }
  if (offset + length > shard_size) {
    return DataLossError(std::string(where) + ": shard index entry " + std::to_string(i) +
                         " with byte range [" + std::to_string(offset) + ", " +
                         std::to_string(offset + length) + ") is invalid for shard of size " +
                         std::to_string(shard_size));
  }
  return OkStatus();
}

}  // namespace

std::uint64_t ShardIndexBytes(const Zarr3ShardingCodec& codec,
                              std::span<const std::int64_t> shard_shape) {
  InnerGrid g(Shape(shard_shape.begin(), shard_shape.end()), codec.chunk_shape);
  return static_cast<std::uint64_t>(g.count) * 16 + 4 * codec.index_codecs.bytes_to_bytes.size();
}

Result<std::optional<Bytes>> EncodeShard(const Zarr3ShardingCodec& codec,
                                         const Zarr3ChunkSpec& spec,
                                         std::span<const std::byte> shard, bool store_fill) {
  InnerGrid g(spec.shape, codec.chunk_shape);
  std::size_t item = ItemSize(spec.dtype);
  std::uint64_t index_size = ShardIndexBytes(codec, spec.shape);
  std::uint64_t offset = codec.index_at_start ? index_size : 0;
  std::vector<std::uint64_t> index(static_cast<std::size_t>(g.count) * 2, kMissing);
  Bytes chunks, inner(NumBytes(g.chunk, spec.dtype).value());
  Zarr3ChunkSpec inner_spec{spec.dtype, g.chunk, spec.fill};
  bool any = false;
  for (std::int64_t i = 0; i < g.count; ++i) {
    CopyBox(shard, inner, spec.shape, g.Origin(i), g.chunk, item, /*gather=*/true);
    STOWAGE_ASSIGN_OR_RETURN(auto encoded,
                             EncodeZarr3Chunk(codec.codecs, inner_spec, inner, store_fill));
    if (!encoded) continue;
    any = true;
    index[2 * i] = offset;
    index[2 * i + 1] = encoded->size();
    offset += encoded->size();
    chunks.insert(chunks.end(), encoded->begin(), encoded->end());
  }
  if (!any) return std::optional<Bytes>();
  const std::uint64_t missing = kMissing;
  STOWAGE_ASSIGN_OR_RETURN(auto encoded_index,
                           EncodeZarr3Chunk(codec.index_codecs, IndexSpec(g, missing),
                                            std::as_bytes(std::span(index)), /*store_fill=*/true));
  if (!encoded_index.has_value()) return InternalError("shard index encoded to no value");
  Bytes index_bytes = std::move(*encoded_index);
  if (codec.index_at_start) {
    index_bytes.insert(index_bytes.end(), chunks.begin(), chunks.end());
    return std::optional<Bytes>(std::move(index_bytes));
  }
  chunks.insert(chunks.end(), index_bytes.begin(), index_bytes.end());
  return std::optional<Bytes>(std::move(chunks));
}

Status DecodeShard(const Zarr3ShardingCodec& codec, const Zarr3ChunkSpec& spec,
                   std::span<const std::byte> stored, std::span<std::byte> out,
                   std::string_view where) {
  InnerGrid g(spec.shape, codec.chunk_shape);
  std::uint64_t index_size = ShardIndexBytes(codec, spec.shape);
  if (stored.size() < index_size) {
    return DataLossError(std::string(where) + ": shard has " + std::to_string(stored.size()) +
                         " bytes, but its index alone needs " + std::to_string(index_size));
  }
  auto encoded_index = codec.index_at_start ? stored.first(index_size) : stored.last(index_size);
  const std::uint64_t missing = kMissing;
  Bytes index(static_cast<std::size_t>(g.count) * 16);
  Status decoded =
      DecodeZarr3Chunk(codec.index_codecs, IndexSpec(g, missing), encoded_index, index, where);
  if (!decoded.has_value()) return decoded.error().WithContext("shard index");
  std::size_t item = ItemSize(spec.dtype);
  Bytes inner(NumBytes(g.chunk, spec.dtype).value());
  Zarr3ChunkSpec inner_spec{spec.dtype, g.chunk, spec.fill};
  for (std::int64_t i = 0; i < g.count; ++i) {
    std::uint64_t offset = LoadU64(index, 2 * i), length = LoadU64(index, 2 * i + 1);
    if (offset == kMissing && length == kMissing) {
      for (std::size_t b = 0; b < inner.size(); b += item) {
        std::memcpy(&inner[b], spec.fill.data(), item);
      }
    } else {
      STOWAGE_RETURN_IF_ERROR(ValidateEntry(i, offset, length, stored.size(), where));
      std::string inner_where = std::string(where) + " (inner chunk " + std::to_string(i) + ")";
      STOWAGE_RETURN_IF_ERROR(DecodeZarr3Chunk(codec.codecs, inner_spec,
                                               stored.subspan(offset, length), inner, inner_where));
    }
    CopyBox(inner, out, spec.shape, g.Origin(i), g.chunk, item, /*gather=*/false);
  }
  return OkStatus();
}

}  // namespace stowage::zarr
