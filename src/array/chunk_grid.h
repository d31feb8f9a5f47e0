// Where the chunks of a regular chunk grid sit in the array (zarr v2 chunks,
// zarr v3 outer chunks), and which of them a region (a box of the array)
// overlaps.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "stowage/array.h"

namespace stowage::array_io {

// A box of array elements: shape[k] elements from origin[k] along each
// dimension k (global coordinates). A whole array of shape s is {0…, s}.
struct Region {
  Shape origin;
  Shape shape;
};

// The region covering all of an array of `shape`.
Region WholeArray(const Shape& shape);

// One chunk's place in the array, and its overlap with the region being read
// or written.
struct ChunkBox {
  Shape grid_index;  // the chunk's position in the chunk grid
  Shape origin;      // the array index of the chunk's first element
  Shape extent;      // elements of the chunk inside the array (less at the edge)
  // The box where the chunk and the region overlap: its first element
  // relative to the chunk's origin and to the region's origin, and its size.
  Shape in_chunk;
  Shape in_region;
  Shape overlap;
  // When the full chunk (no edge padding, nothing clipped) is one contiguous
  // run of the region's C-order buffer (the whole region, or a slab of it):
  // that run's first element. Its elements can then move between the
  // region's buffer and the chunk as is.
  std::optional<std::int64_t> contiguous_at;
};

// The number of chunks along each dimension: ceil(shape / chunk_shape).
// REQUIRES: same rank; chunk sizes positive.
Shape GridShape(const Shape& shape, const Shape& chunk_shape);

// The chunks of an array of `shape` cut into `chunk_shape` that overlap
// `region`, in C order of their grid indices. None when the region has no
// elements.
class ChunksInRegion {
 public:
  // REQUIRES: equal ranks, positive chunk sizes, the region inside the array
  // (CheckRegionInside).
  ChunksInRegion(Shape shape, Shape chunk_shape, Region region);

  // The number of chunks overlapping the region.
  std::int64_t size() const { return size_; }

  // Chunk number `i` of them. REQUIRES: 0 <= i < size().
  ChunkBox operator[](std::int64_t i) const;

 private:
  Shape shape_, chunk_shape_;
  Region region_;
  Shape first_, count_;  // grid indices [first_, first_ + count_) per dimension
  std::int64_t size_ = 0;
};

// OK when `region` has the array's rank, no negative origin or size, and lies
// inside an array of `shape`. Errors: kInvalidArgument naming `where`.
Status CheckRegionInside(const Shape& shape, const Region& region, std::string_view where);

// OK when `region` (already inside the array) starts on a chunk boundary and
// ends on one or at the array's edge in every dimension, so that every chunk
// it touches lies wholly inside it (and no chunk is shared with a writer of
// another such region). A region with no elements is always aligned.
// Errors: kInvalidArgument naming `where`.
Status CheckRegionAligned(const Shape& shape, const Shape& chunk_shape, const Region& region,
                          std::string_view where);

}  // namespace stowage::array_io
