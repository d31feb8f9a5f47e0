#include "zarr/zarr3_chunk_key.h"

namespace stowage::zarr {

std::string Zarr3ChunkKey(const ChunkKeyEncoding& encoding,
                          std::span<const std::int64_t> grid_indices) {
  if (encoding.kind == ChunkKeyEncoding::Kind::kDefault) {
    std::string key = "c";
    for (std::int64_t index : grid_indices) {
      key += encoding.separator;
      key += std::to_string(index);
    }
    return key;
  }
  if (grid_indices.empty()) return "0";
  std::string key;
  for (std::size_t i = 0; i < grid_indices.size(); ++i) {
    if (i) key += encoding.separator;
    key += std::to_string(grid_indices[i]);
  }
  return key;
}

}  // namespace stowage::zarr
