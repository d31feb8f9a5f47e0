#include "array/chunk_grid.h"

#include <algorithm>

namespace stowage::array_io {

Shape GridShape(const Shape& shape, const Shape& chunk_shape) {
  Shape grid(shape.size());
  for (std::size_t k = 0; k < shape.size(); ++k) {
    grid[k] = (shape[k] + chunk_shape[k] - 1) / chunk_shape[k];
  }
  return grid;
}

ChunkBox ChunkAt(std::int64_t linear, const Shape& shape, const Shape& chunk_shape,
                 const Shape& grid) {
  std::size_t rank = shape.size();
  ChunkBox box{Shape(rank), Shape(rank), Shape(rank)};
  for (std::size_t k = rank; k-- > 0;) {
    box.grid_index[k] = linear % grid[k];
    linear /= grid[k];
    box.origin[k] = box.grid_index[k] * chunk_shape[k];
    box.extent[k] = std::min(chunk_shape[k], shape[k] - box.origin[k]);
  }
  box.is_whole_array = chunk_shape == shape;
  return box;
}

}  // namespace stowage::array_io
