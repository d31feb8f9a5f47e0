// Copies an n-d box of elements between two C-ordered buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace stowage::array_io {

// Copies the box of `extent` elements starting at `src_origin` in a C-order
// buffer of `src_shape` to `dst_origin` in a buffer of `dst_shape`.
// REQUIRES: the box lies inside both buffers; ranks agree.
void CopyBox(std::span<const std::byte> src, std::span<const std::int64_t> src_shape,
             std::span<const std::int64_t> src_origin, std::span<std::byte> dst,
             std::span<const std::int64_t> dst_shape, std::span<const std::int64_t> dst_origin,
             std::span<const std::int64_t> extent, std::size_t item_size);

// Fills `buffer` with copies of the `item`-sized pattern `value`.
void FillWith(std::span<std::byte> buffer, std::span<const std::byte> value);

}  // namespace stowage::array_io
