// CRC-32C (Castagnoli), the checksum of zarr3's `crc32c` codec, the
// sharding index and every OCDBT object. Computed by Intel ISA-L (hardware
// instructions where the CPU has them).
#pragma once

#include <cstdint>
#include <span>

namespace stowage::codec {

// The CRC-32C of `data`; pass a previous result as `crc` to continue it over
// the next piece (Crc32c(b, Crc32c(a)) == Crc32c(a ‖ b)).
std::uint32_t Crc32c(std::span<const std::byte> data, std::uint32_t crc = 0);

}  // namespace stowage::codec
