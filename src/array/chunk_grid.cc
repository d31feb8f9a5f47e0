#include "array/chunk_grid.h"

#include <algorithm>
#include <string>

namespace stowage::array_io {
namespace {

std::string Describe(const Region& region) {
  return "region of shape " + ShapeToString(region.shape) + " at " + ShapeToString(region.origin);
}

}  // namespace

Region WholeArray(const Shape& shape) { return {Shape(shape.size(), 0), shape}; }

Shape GridShape(const Shape& shape, const Shape& chunk_shape) {
  Shape grid(shape.size());
  for (std::size_t k = 0; k < shape.size(); ++k) {
    grid[k] = (shape[k] + chunk_shape[k] - 1) / chunk_shape[k];
  }
  return grid;
}

ChunksInRegion::ChunksInRegion(Shape shape, Shape chunk_shape, Region region)
    : shape_(std::move(shape)),
      chunk_shape_(std::move(chunk_shape)),
      region_(std::move(region)),
      first_(shape_.size()),
      count_(shape_.size()) {
  size_ = 1;
  for (std::size_t k = 0; k < shape_.size(); ++k) {
    std::int64_t begin = region_.origin[k], end = begin + region_.shape[k];
    first_[k] = begin / chunk_shape_[k];
    count_[k] = end > begin ? (end - 1) / chunk_shape_[k] - first_[k] + 1 : 0;
    // At most the region's element count, which the caller could allocate.
    size_ *= count_[k];
  }
}

namespace {

// Where a full chunk lies in the region's C-order buffer when its elements
// are one run there: size 1 in the leading dimensions, the region's size in
// the trailing ones, any size in the one between.
std::optional<std::int64_t> ContiguousOffset(const ChunkBox& box, const Shape& chunk_shape,
                                             const Shape& region_shape) {
  if (box.overlap != chunk_shape) return std::nullopt;  // clipped or padded
  std::size_t rank = chunk_shape.size(), k = 0;
  while (k < rank && box.overlap[k] == 1) ++k;
  for (std::size_t d = k + 1; d < rank; ++d) {
    if (box.overlap[d] != region_shape[d]) return std::nullopt;
  }
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < rank; ++d) offset = offset * region_shape[d] + box.in_region[d];
  return offset;
}

}  // namespace

ChunkBox ChunksInRegion::operator[](std::int64_t linear) const {
  std::size_t rank = shape_.size();
  ChunkBox box{Shape(rank), Shape(rank), Shape(rank), Shape(rank), Shape(rank), Shape(rank)};
  for (std::size_t k = rank; k-- > 0;) {
    box.grid_index[k] = first_[k] + linear % count_[k];
    linear /= count_[k];
    box.origin[k] = box.grid_index[k] * chunk_shape_[k];
    box.extent[k] = std::min(chunk_shape_[k], shape_[k] - box.origin[k]);
    std::int64_t begin = std::max(box.origin[k], region_.origin[k]);
    std::int64_t end =
        std::min(box.origin[k] + box.extent[k], region_.origin[k] + region_.shape[k]);
    box.in_chunk[k] = begin - box.origin[k];
    box.in_region[k] = begin - region_.origin[k];
    box.overlap[k] = end - begin;
  }
  box.contiguous_at = ContiguousOffset(box, chunk_shape_, region_.shape);
  return box;
}

Status CheckRegionInside(const Shape& shape, const Region& region, std::string_view where) {
  if (region.origin.size() != shape.size() || region.shape.size() != shape.size()) {
    return InvalidArgumentError(std::string(where) + ": " + Describe(region) +
                                " does not match the array's rank " + std::to_string(shape.size()));
  }
  for (std::size_t k = 0; k < shape.size(); ++k) {
    // Written so that no sum can overflow: 0 <= origin <= shape - size.
    if (region.origin[k] < 0 || region.shape[k] < 0 || region.shape[k] > shape[k] ||
        region.origin[k] > shape[k] - region.shape[k]) {
      return InvalidArgumentError(std::string(where) + ": " + Describe(region) +
                                  " is not inside the array of shape " + ShapeToString(shape));
    }
  }
  return OkStatus();
}

Status CheckRegionAligned(const Shape& shape, const Shape& chunk_shape, const Region& region,
                          std::string_view where) {
  for (std::int64_t n : region.shape) {
    if (n == 0) return OkStatus();
  }
  for (std::size_t k = 0; k < shape.size(); ++k) {
    std::int64_t end = region.origin[k] + region.shape[k];
    if (region.origin[k] % chunk_shape[k] != 0 || (end % chunk_shape[k] != 0 && end != shape[k])) {
      return InvalidArgumentError(
          std::string(where) + ": " + Describe(region) + " does not start and end on chunk " +
          "boundaries (chunk shape " + ShapeToString(chunk_shape) + ", array shape " +
          ShapeToString(shape) + ") in dimension " + std::to_string(k) +
          "; a region write must cover whole chunks so that no chunk has two writers");
    }
  }
  return OkStatus();
}

}  // namespace stowage::array_io
