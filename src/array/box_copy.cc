#include "array/box_copy.h"

#include <cstring>
#include <vector>

namespace stowage::array_io {
namespace {

std::vector<std::int64_t> Strides(std::span<const std::int64_t> shape) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t k = shape.size(); k-- > 0;) {
    strides[k] = stride;
    stride *= shape[k];
  }
  return strides;
}

}  // namespace

void CopyBox(std::span<const std::byte> src, std::span<const std::int64_t> src_shape,
             std::span<const std::int64_t> src_origin, std::span<std::byte> dst,
             std::span<const std::int64_t> dst_shape, std::span<const std::int64_t> dst_origin,
             std::span<const std::int64_t> extent, std::size_t item_size) {
  std::size_t rank = extent.size();
  for (std::int64_t e : extent) {
    if (e == 0) return;
  }
  if (rank == 0) {
    std::memcpy(dst.data(), src.data(), item_size);
    return;
  }
  auto src_strides = Strides(src_shape);
  auto dst_strides = Strides(dst_shape);
  // Contiguous runs along the last dimension.
  std::size_t run = static_cast<std::size_t>(extent[rank - 1]) * item_size;
  std::vector<std::int64_t> index(rank, 0);
  for (;;) {
    std::int64_t s = 0, d = 0;
    for (std::size_t k = 0; k < rank; ++k) {
      s += (src_origin[k] + index[k]) * src_strides[k];
      d += (dst_origin[k] + index[k]) * dst_strides[k];
    }
    std::memcpy(dst.data() + d * item_size, src.data() + s * item_size, run);
    std::size_t k = rank - 1;
    for (;;) {  // advance over all but the last dimension
      if (k == 0) return;
      --k;
      if (++index[k] < extent[k]) break;
      index[k] = 0;
    }
  }
}

void FillWith(std::span<std::byte> buffer, std::span<const std::byte> value) {
  std::size_t item = value.size();
  bool all_zero = true;
  for (std::byte b : value) all_zero &= b == std::byte{0};
  if (all_zero) {
    std::memset(buffer.data(), 0, buffer.size());
    return;
  }
  for (std::size_t i = 0; i + item <= buffer.size(); i += item) {
    std::memcpy(buffer.data() + i, value.data(), item);
  }
}

}  // namespace stowage::array_io
