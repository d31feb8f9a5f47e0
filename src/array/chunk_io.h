// Steps the zarr v2 (zarr_array.h) and zarr v3 (zarr3_array.h) whole-array
// readers and writers share.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "array/chunk_grid.h"
#include "array/zarr_array.h"
#include "stowage/array.h"
#include "stowage/future.h"
#include "zarr/zarray.h"

namespace stowage::array_io {

// The store key of `key` under `prefix`: "<prefix>/<key>", or `key` itself
// when `prefix` is empty.
std::string JoinKey(std::string_view prefix, std::string_view key);

// Runs `write_metadata` (unless null) and `process(box)` for every chunk of
// an array of `shape` cut into `chunk_shape`, in parallel on options.pool
// (null: ThreadPool::Default()), and returns a future of the first error (or
// OK). After each chunk succeeds, reports its bytes inside the array (its
// extent's elements × `item_size`) to options.progress. The tasks run after
// this returns: the functions must own (or outlive the future) what they use
// and be safe to call concurrently.
Future<void> ForEachChunk(const IoOptions& options, const Shape& shape, const Shape& chunk_shape,
                          std::size_t item_size, std::function<Status()> write_metadata,
                          std::function<Status(const ChunkBox&)> process);

// An uninitialized array of `shape` and `dtype` for a read to fill. Errors:
// kResourceExhausted naming `path` (the array's metadata) when it would need
// more than zarr::MaxBytes(limits) bytes, plus those of NumBytes.
Result<Array> AllocateReadTarget(const Shape& shape, DType dtype, const zarr::Limits& limits,
                                 std::string_view path);

// Copies the part of a decoded chunk (`chunk_shape` elements of
// `stored_dtype`, C order) that lies inside the array to its place `box` in
// `out`, converting to out's dtype.
void CopyChunkIntoArray(std::span<const std::byte> decoded, DType stored_dtype,
                        const Shape& chunk_shape, const ChunkBox& box, Array& out);

}  // namespace stowage::array_io
