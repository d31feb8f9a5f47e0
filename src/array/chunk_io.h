// Steps the zarr v2 (zarr_array.h) and zarr v3 (zarr3_array.h) region
// readers and writers share (a whole array is the region WholeArray(shape)).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "array/chunk_grid.h"
#include "array/zarr_array.h"
#include "base/bytes.h"
#include "stowage/array.h"
#include "stowage/future.h"
#include "zarr/zarray.h"

namespace stowage::array_io {

// The store key of `key` under `prefix`: "<prefix>/<key>", or `key` itself
// when `prefix` is empty.
std::string JoinKey(std::string_view prefix, std::string_view key);

// Runs `write_metadata` (unless null) and `process(box)` for every chunk of
// an array of `shape` cut into `chunk_shape` that overlaps `region`, in
// parallel on options.pool (null: ThreadPool::Default()), and returns a
// future of the first error (or OK). After each chunk succeeds, reports the
// bytes of its overlap with the region (elements × `item_size`) to
// options.progress. The tasks run after this returns: the functions must own
// (or outlive the future) what they use and be safe to call concurrently.
// REQUIRES: the region lies inside the array (CheckRegionInside).
Future<void> ForEachChunk(const IoOptions& options, const Shape& shape, const Shape& chunk_shape,
                          const Region& region, std::size_t item_size,
                          std::function<Status()> write_metadata,
                          std::function<Status(const ChunkBox&)> process);

// `limits` without its bound on the whole array's bytes, for parsing the
// metadata of an array of which only a region is held in memory. Callers
// then check the chunk (CheckChunkBytes) and the region (AllocateReadTarget)
// against `limits` themselves.
zarr::Limits WithoutArrayBound(const zarr::Limits& limits);

// Errors: kResourceExhausted naming `path` when one chunk of `chunk_shape`
// elements of `dtype` needs more than zarr::MaxBytes(limits) bytes.
Status CheckChunkBytes(const Shape& chunk_shape, DType dtype, const zarr::Limits& limits,
                       std::string_view path);

// An uninitialized array of `shape` (a region's) and `dtype` for a read to
// fill. Errors: kResourceExhausted naming `path` (the array's metadata) when
// it would need more than zarr::MaxBytes(limits) bytes, plus those of
// NumBytes.
Result<Array> AllocateReadTarget(const Shape& shape, DType dtype, const zarr::Limits& limits,
                                 std::string_view path);

// Where a region read puts its elements: a C-order buffer holding `shape`
// (the region's shape) elements of `dtype`.
struct ReadTarget {
  std::span<std::byte> bytes;
  Shape shape;
  DType dtype = DType::kUint8;
};

// Errors: kInvalidArgument naming `path` unless `bytes` holds exactly the
// elements of `shape` in `dtype`.
Result<ReadTarget> MakeReadTarget(std::span<std::byte> bytes, const Shape& shape, DType dtype,
                                  std::string_view path);

// Decodes one full chunk (all of its chunk-shape elements, stored dtype, C
// order, edge padding included) into `out`, or fails.
using DecodeChunkFn = std::function<Status(const ChunkBox& box, std::span<std::byte> out)>;

// Reads every chunk of an array of `shape` cut into `chunk_shape` that
// overlaps `region` (and no other), in parallel on options.pool: `decode`
// fills a chunk buffer (at most one per worker alive at a time) and the
// overlap moves into `target`, converted from `stored_dtype` to
// target.dtype; when the chunk is exactly the region and needs no cast,
// `decode` writes into target.bytes directly. Blocks until done; returns the
// first error. REQUIRES: the region lies inside the array; target.shape ==
// region.shape; `decode` is safe to call concurrently.
Status ReadRegionChunks(const IoOptions& options, const Shape& shape, const Shape& chunk_shape,
                        DType stored_dtype, const Region& region, const ReadTarget& target,
                        const DecodeChunkFn& decode);

// The full chunk `box` selects from `values` (the region's elements, C
// order), in `stored_dtype`, with the part beyond the array's edge set to
// `fill` (one stored element). Returns a view of `values` itself when no copy
// is needed, else of `scratch`. REQUIRES: the chunk lies wholly inside the
// region (CheckRegionAligned).
std::span<const std::byte> GatherChunk(const Array& values, const ChunkBox& box,
                                       const Shape& chunk_shape, DType stored_dtype,
                                       std::span<const std::byte> fill, Bytes& scratch);

}  // namespace stowage::array_io
