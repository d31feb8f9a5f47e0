#include "zarr/byte_order.h"

#include <algorithm>

namespace stowage::zarr {

void SwapByteOrder(std::span<std::byte> data, DType dtype) {
  std::size_t width = ItemSize(dtype);
  if (KindOf(dtype) == DTypeKind::kComplex) width /= 2;
  if (width == 1) return;
  for (std::size_t i = 0; i + width <= data.size(); i += width) {
    std::reverse(data.begin() + i, data.begin() + i + width);
  }
}

}  // namespace stowage::zarr
