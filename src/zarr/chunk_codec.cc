#include "zarr/chunk_codec.h"

#include <cstring>
#include <string>

#include "zarr/byte_order.h"

namespace stowage::zarr {
namespace {

// Copies between Fortran and C element order for an array of `shape`.
// `to_c` selects the direction.
void Transpose(std::span<const std::byte> src, std::span<std::byte> dst, const Shape& shape,
               std::size_t item, bool to_c) {
  std::size_t rank = shape.size();
  std::vector<std::int64_t> f_stride(rank), index(rank, 0);
  std::int64_t stride = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    f_stride[k] = stride;
    stride *= shape[k];
  }
  std::int64_t count = stride;
  for (std::int64_t c = 0; c < count; ++c) {
    std::int64_t f = 0;
    for (std::size_t k = 0; k < rank; ++k) f += index[k] * f_stride[k];
    const std::byte* from = to_c ? &src[f * item] : &src[c * item];
    std::byte* to = to_c ? &dst[c * item] : &dst[f * item];
    std::memcpy(to, from, item);
    for (std::size_t k = rank; k-- > 0;) {  // advance the C-order index
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
  }
}

}  // namespace

Result<ChunkCodec> ChunkCodec::Make(const ZarrayMetadata& metadata, std::string_view path) {
  ChunkCodec codec;
  if (!metadata.compressor.is_null()) {
    auto compressor = codec::MakeCompressor(metadata.compressor);
    if (!compressor.has_value()) return compressor.error().WithContext(std::string(path));
    codec.compressor_ = std::move(*compressor);
  }
  codec.chunks_ = metadata.chunks;
  codec.dtype_ = metadata.dtype.dtype;
  codec.big_endian_ = metadata.dtype.big_endian;
  codec.fortran_order_ = metadata.order == 'F';
  codec.chunk_bytes_ = NumBytes(metadata.chunks, codec.dtype_).value();
  return codec;
}

Status ChunkCodec::ToStoredLayout(std::span<std::byte> chunk) const {
  if (fortran_order_ && chunks_.size() > 1) {
    Bytes c_order(chunk.begin(), chunk.end());
    Transpose(c_order, chunk, chunks_, ItemSize(dtype_), /*to_c=*/false);
  }
  if (big_endian_) SwapByteOrder(chunk, dtype_);
  return OkStatus();
}

Status ChunkCodec::FromStoredLayout(std::span<std::byte> chunk) const {
  if (big_endian_) SwapByteOrder(chunk, dtype_);
  if (fortran_order_ && chunks_.size() > 1) {
    Bytes f_order(chunk.begin(), chunk.end());
    Transpose(f_order, chunk, chunks_, ItemSize(dtype_), /*to_c=*/true);
  }
  return OkStatus();
}

Result<Bytes> ChunkCodec::Encode(std::span<const std::byte> chunk) const {
  std::span<const std::byte> stored = chunk;
  Bytes relaid;
  if (fortran_order_ || big_endian_) {
    relaid.assign(chunk.begin(), chunk.end());
    STOWAGE_RETURN_IF_ERROR(ToStoredLayout(relaid));
    stored = relaid;
  }
  if (!compressor_) return Bytes(stored.begin(), stored.end());
  return compressor_->Encode(stored, ItemSize(dtype_));
}

Status ChunkCodec::DecodeInto(std::span<const std::byte> stored, std::span<std::byte> out,
                              std::string_view key_path) const {
  if (!compressor_) {
    if (stored.size() != out.size()) {
      return DataLossError(std::string(key_path) + ": uncompressed chunk holds " +
                           std::to_string(stored.size()) + " bytes, expected " +
                           std::to_string(out.size()));
    }
    if (!out.empty()) std::memcpy(out.data(), stored.data(), out.size());
  } else {
    Status decoded = compressor_->DecodeInto(stored, out);
    if (!decoded.has_value()) return decoded.error().WithContext(std::string(key_path));
  }
  return FromStoredLayout(out);
}

}  // namespace stowage::zarr
