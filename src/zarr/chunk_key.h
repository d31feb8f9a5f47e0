// zarr v2 chunk keys: grid indices joined by the dimension separator
// ("0.1", "2/0/3"); a 0-d array has the single chunk "0".
// Source: tensorstore/driver/zarr/driver.cc (EncodeChunkIndices).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace stowage::zarr {

std::string ChunkKey(std::span<const std::int64_t> grid_indices, char separator);

}  // namespace stowage::zarr
