// zarr v3 chunk keys (tensorstore/driver/zarr3/driver.cc GetChunkStorageKey;
// tests driver_test.cc ChunkKeyEncodingTest.*): the "default" encoding is "c"
// followed by "<separator><index>" per dimension ("c", "c/0", "c/1/0",
// "c.0.1"); the "v2" encoding joins the indices ("0" for rank 0, "1.0").
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace stowage::zarr {

struct ChunkKeyEncoding {
  enum class Kind { kDefault, kV2 };
  Kind kind = Kind::kDefault;
  char separator = '/';  // '/' or '.'

  // The separator a kind uses when "configuration" does not name one.
  static char DefaultSeparator(Kind kind) { return kind == Kind::kDefault ? '/' : '.'; }
  bool operator==(const ChunkKeyEncoding&) const = default;
};

// The storage key (relative to the array's prefix) of the chunk at
// `grid_indices` of the outer chunk grid.
std::string Zarr3ChunkKey(const ChunkKeyEncoding& encoding,
                          std::span<const std::int64_t> grid_indices);

}  // namespace stowage::zarr
