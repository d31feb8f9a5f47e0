#include "zarr/chunk_key.h"

namespace stowage::zarr {

std::string ChunkKey(std::span<const std::int64_t> grid_indices, char separator) {
  if (grid_indices.empty()) return "0";
  std::string key;
  for (std::size_t i = 0; i < grid_indices.size(); ++i) {
    if (i) key += separator;
    key += std::to_string(grid_indices[i]);
  }
  return key;
}

}  // namespace stowage::zarr
