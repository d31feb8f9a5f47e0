// Orbax's choice of chunk shape (orbax `_src/arrays/subchunking.py`,
// choose_chunk_shape): the largest shape dividing `write_shape` whose byte
// size is at most `target_byte_size`, found greedily by splitting sharded
// (then the largest) dimensions into their next smaller divisor.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "stowage/array.h"

namespace stowage::array_io {

// Same results as Orbax for the same arguments. Zero-length dimensions of
// `write_shape` count as 1 (zarr chunks must be positive). Errors:
// kInvalidArgument for a rank mismatch, a shard axis out of range, or a
// target smaller than one element.
Result<Shape> ChooseChunkShape(std::span<const std::int64_t> global_shape,
                               std::span<const std::int64_t> write_shape, DType dtype,
                               std::optional<std::int64_t> target_byte_size,
                               std::span<const int> shard_axes = {});

// stowage's chunking of a large array saved without a chunk size: C-order
// slabs of at most `max_bytes` (or one element's row when that is larger),
// cut from the leading dimensions, so that chunks encode in parallel and
// uncompressed ones move between memory and storage without a copy. A
// dimension is cut at a divisor of its size (no partial edge chunk) unless
// that would halve the slab. Zero-length dimensions count as 1.
// REQUIRES: max_bytes > 0.
Shape SlabChunkShape(std::span<const std::int64_t> write_shape, DType dtype,
                     std::int64_t max_bytes);

}  // namespace stowage::array_io
