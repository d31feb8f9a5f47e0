// Where the chunks of a regular chunk grid sit in the array (zarr v2 chunks,
// zarr v3 outer chunks).
#pragma once

#include <cstdint>

#include "stowage/array.h"

namespace stowage::array_io {

// One chunk's place in the array.
struct ChunkBox {
  Shape grid_index;             // the chunk's position in the chunk grid
  Shape origin;                 // the array index of the chunk's first element
  Shape extent;                 // elements of the chunk inside the array (less at the edge)
  bool is_whole_array = false;  // the chunk covers the array exactly
};

// The number of chunks along each dimension: ceil(shape / chunk_shape).
// REQUIRES: same rank; chunk sizes positive.
Shape GridShape(const Shape& shape, const Shape& chunk_shape);

// The box of chunk number `linear` (C order over `grid`, the chunk counts
// along each dimension) of an array of `shape` cut into chunks of
// `chunk_shape`. REQUIRES: all three have the same rank; linear < the number
// of chunks.
ChunkBox ChunkAt(std::int64_t linear, const Shape& shape, const Shape& chunk_shape,
                 const Shape& grid);

}  // namespace stowage::array_io
