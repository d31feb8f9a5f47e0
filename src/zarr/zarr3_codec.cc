#include "zarr/zarr3_codec.h"

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "codec/blosc_compressor.h"
#include "codec/crc32c.h"
#include "codec/zlib_compressor.h"
#include "codec/zstd_compressor.h"
#include "zarr/byte_order.h"
#include "zarr/zarr3_sharding.h"

namespace stowage::zarr {
namespace {

constexpr std::uint64_t kUnknownSize = std::numeric_limits<std::uint64_t>::max();

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  return a > kUnknownSize - b ? kUnknownSize : a + b;
}

Shape Permuted(const Shape& shape, const std::vector<int>& order) {
  Shape out(shape.size());
  for (std::size_t i = 0; i < order.size(); ++i) out[i] = shape[order[i]];
  return out;
}

// The array with dimensions reordered so that output dimension i is input
// dimension order[i] (`shape` is the input's).
Bytes Transpose(std::span<const std::byte> in, const Shape& shape, const std::vector<int>& order,
                std::size_t item) {
  std::size_t rank = shape.size();
  std::vector<std::int64_t> in_stride(rank);
  std::int64_t stride = 1;
  for (std::size_t k = rank; k-- > 0;) {
    in_stride[k] = stride;
    stride *= shape[k];
  }
  Shape out_shape = Permuted(shape, order);
  std::vector<std::int64_t> step(rank), index(rank, 0);
  for (std::size_t i = 0; i < rank; ++i) step[i] = in_stride[order[i]];
  Bytes out(in.size());
  std::int64_t count = static_cast<std::int64_t>(in.size() / item), offset = 0;
  for (std::int64_t c = 0; c < count; ++c) {
    std::memcpy(&out[c * item], &in[offset * item], item);
    for (std::size_t k = rank; k-- > 0;) {  // advance the output's C-order index
      offset += step[k];
      if (++index[k] < out_shape[k]) break;
      offset -= step[k] * out_shape[k];
      index[k] = 0;
    }
  }
  return out;
}

std::vector<int> Inverse(const std::vector<int>& order) {
  std::vector<int> inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
  return inverse;
}

Result<Bytes> EncodeBytesToBytes(const Zarr3BytesToBytesCodec& codec,
                                 std::span<const std::byte> in) {
  if (const auto* zstd = std::get_if<Zarr3ZstdCodec>(&codec)) {
    return codec::ZstdCompressor(zstd->level, zstd->checksum).Encode(in, 1);
  }
  if (const auto* gzip = std::get_if<Zarr3GzipCodec>(&codec)) {
    return codec::ZlibCompressor(codec::ZlibCompressor::Format::kGzip, gzip->level).Encode(in, 1);
  }
  if (const auto* blosc = std::get_if<Zarr3BloscCodec>(&codec)) {
    codec::BloscCompressor::Options options{blosc->cname, blosc->clevel, blosc->shuffle,
                                            static_cast<std::size_t>(blosc->blocksize)};
    return codec::BloscCompressor(options).Encode(in, static_cast<std::size_t>(blosc->typesize));
  }
  Bytes out(in.begin(), in.end());  // crc32c
  std::uint32_t crc = codec::Crc32c(in);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(crc >> (8 * i)));
  return out;
}

// Decodes one bytes->bytes stage into exactly `size` bytes.
Result<Bytes> DecodeBytesToBytes(const Zarr3BytesToBytesCodec& codec, std::span<const std::byte> in,
                                 std::uint64_t size, std::string_view where) {
  if (std::holds_alternative<Zarr3Crc32cCodec>(codec)) {
    if (in.size() < 4 || (size != kUnknownSize && in.size() - 4 != size)) {
      return DataLossError(std::string(where) + ": crc32c: " + std::to_string(in.size()) +
                           " bytes do not hold the expected data and checksum");
    }
    std::uint32_t stored = 0;
    for (int i = 0; i < 4; ++i) stored |= std::uint32_t(in[in.size() - 4 + i]) << (8 * i);
    if (codec::Crc32c(in.first(in.size() - 4)) != stored) {
      return DataLossError(std::string(where) + ": crc32c checksum mismatch");
    }
    return Bytes(in.begin(), in.end() - 4);
  }
  if (size == kUnknownSize) {
    return UnsupportedError(std::string(where) +
                            ": cannot decode a compressor whose output size is unknown "
                            "(two compressors in one chain)");
  }
  Bytes out(size);
  Status status;
  if (const auto* zstd = std::get_if<Zarr3ZstdCodec>(&codec)) {
    status = codec::ZstdCompressor(zstd->level, zstd->checksum).DecodeInto(in, out);
  } else if (const auto* gzip = std::get_if<Zarr3GzipCodec>(&codec)) {
    status = codec::ZlibCompressor(codec::ZlibCompressor::Format::kGzip, gzip->level)
                 .DecodeInto(in, out);
  } else {
    status = codec::BloscCompressor(codec::BloscCompressor::Options{}).DecodeInto(in, out);
  }
  if (!status.has_value()) return status.error().WithContext(std::string(where));
  return out;
}

// The shape each transpose stage sees, ending with the array->bytes input.
std::vector<Shape> StageShapes(const Zarr3CodecChain& chain, const Shape& shape) {
  std::vector<Shape> shapes = {shape};
  for (const auto& t : chain.transposes) shapes.push_back(Permuted(shapes.back(), t.order));
  return shapes;
}

// Sizes after the array->bytes codec and after each bytes->bytes codec, or
// kUnknownSize where a codec's output size depends on the data.
std::vector<std::uint64_t> StageSizes(const Zarr3CodecChain& chain, const Zarr3ChunkSpec& spec) {
  std::uint64_t size = chain.sharding ? kUnknownSize : NumBytes(spec.shape, spec.dtype).value();
  std::vector<std::uint64_t> sizes = {size};
  for (const auto& codec : chain.bytes_to_bytes) {
    size = std::holds_alternative<Zarr3Crc32cCodec>(codec) && size != kUnknownSize ? size + 4
                                                                                   : kUnknownSize;
    sizes.push_back(size);
  }
  return sizes;
}

}  // namespace

bool IsAllFill(std::span<const std::byte> chunk, std::span<const std::byte> fill) {
  std::size_t item = fill.size();
  for (std::size_t i = 0; i + item <= chunk.size(); i += item) {
    if (std::memcmp(&chunk[i], fill.data(), item) != 0) return false;
  }
  return true;
}

Result<std::optional<Bytes>> EncodeZarr3Chunk(const Zarr3CodecChain& chain,
                                              const Zarr3ChunkSpec& spec,
                                              std::span<const std::byte> chunk, bool store_fill) {
  if (!store_fill && IsAllFill(chunk, spec.fill)) return std::optional<Bytes>();
  std::vector<Shape> shapes = StageShapes(chain, spec.shape);
  std::size_t item = ItemSize(spec.dtype);
  Bytes data;
  std::span<const std::byte> current = chunk;
  for (std::size_t i = 0; i < chain.transposes.size(); ++i) {
    data = Transpose(current, shapes[i], chain.transposes[i].order, item);
    current = data;
  }
  if (chain.sharding) {
    Zarr3ChunkSpec shard_spec{spec.dtype, shapes.back(), spec.fill};
    return EncodeShard(*chain.sharding, shard_spec, current, store_fill);
  }
  if (chain.bytes.endian == Endian::kBig) {
    if (data.empty()) data.assign(current.begin(), current.end());
    SwapByteOrder(data, spec.dtype);
    current = data;
  }
  for (const auto& codec : chain.bytes_to_bytes) {
    STOWAGE_ASSIGN_OR_RETURN(Bytes next, EncodeBytesToBytes(codec, current));
    data = std::move(next);
    current = data;
  }
  if (current.data() == chunk.data()) data.assign(chunk.begin(), chunk.end());
  return std::optional<Bytes>(std::move(data));
}

Status DecodeZarr3Chunk(const Zarr3CodecChain& chain, const Zarr3ChunkSpec& spec,
                        std::span<const std::byte> stored, std::span<std::byte> out,
                        std::string_view where) {
  std::vector<std::uint64_t> sizes = StageSizes(chain, spec);
  Bytes data;
  std::span<const std::byte> current = stored;
  for (std::size_t i = chain.bytes_to_bytes.size(); i-- > 0;) {
    STOWAGE_ASSIGN_OR_RETURN(Bytes next,
                             DecodeBytesToBytes(chain.bytes_to_bytes[i], current, sizes[i], where));
    data = std::move(next);
    current = data;
  }
  std::vector<Shape> shapes = StageShapes(chain, spec.shape);
  std::size_t item = ItemSize(spec.dtype);
  // The array->bytes codec decodes into `out`; the transposes then reorder it.
  if (chain.sharding) {
    Zarr3ChunkSpec shard_spec{spec.dtype, shapes.back(), spec.fill};
    STOWAGE_RETURN_IF_ERROR(DecodeShard(*chain.sharding, shard_spec, current, out, where));
  } else {
    if (current.size() != out.size()) {
      return DataLossError(std::string(where) + ": chunk holds " + std::to_string(current.size()) +
                           " bytes, expected " + std::to_string(out.size()));
    }
    if (!out.empty()) std::memcpy(out.data(), current.data(), out.size());
    if (chain.bytes.endian == Endian::kBig) SwapByteOrder(out, spec.dtype);
  }
  for (std::size_t i = chain.transposes.size(); i-- > 0;) {
    Bytes reordered = Transpose(out, shapes[i + 1], Inverse(chain.transposes[i].order), item);
    std::memcpy(out.data(), reordered.data(), out.size());
  }
  return OkStatus();
}

std::uint64_t MaxStoredZarr3ChunkBytes(const Zarr3CodecChain& chain, const Zarr3ChunkSpec& spec) {
  std::uint64_t size = NumBytes(spec.shape, spec.dtype).value();
  if (chain.sharding) {
    const Zarr3ShardingCodec& s = *chain.sharding;
    Shape shape = StageShapes(chain, spec.shape).back();
    std::uint64_t inner_chunks = 1;
    for (std::size_t i = 0; i < shape.size(); ++i) inner_chunks *= shape[i] / s.chunk_shape[i];
    Zarr3ChunkSpec inner{spec.dtype, s.chunk_shape, spec.fill};
    std::uint64_t per_chunk = MaxStoredZarr3ChunkBytes(s.codecs, inner);
    size = per_chunk > kUnknownSize / inner_chunks ? kUnknownSize : per_chunk * inner_chunks;
    return SaturatingAdd(size, ShardIndexBytes(s, shape));
  }
  for (const auto& codec : chain.bytes_to_bytes) {
    // Incompressible data grows by a small header and per-block overhead.
    size = std::holds_alternative<Zarr3Crc32cCodec>(codec)
               ? SaturatingAdd(size, 4)
               : SaturatingAdd(SaturatingAdd(size, size / 8), 4096);
  }
  return size;
}

}  // namespace stowage::zarr
