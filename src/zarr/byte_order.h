// Byte-order conversion of stored zarr elements (zarr v2 ">" dtypes, zarr v3
// `bytes` codec with "endian": "big").
#pragma once

#include <cstddef>
#include <span>

#include "stowage/dtype.h"

namespace stowage::zarr {

// Reverses in place the bytes of each scalar component of the `dtype`
// elements in `data` (complex: each half separately); one-byte types are left
// as they are. Switches between little- and big-endian in either direction.
void SwapByteOrder(std::span<std::byte> data, DType dtype);

}  // namespace stowage::zarr
