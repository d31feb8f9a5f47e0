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

}  // namespace stowage::array_io
