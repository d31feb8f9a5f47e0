#include "codec/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <climits>

namespace stowage::codec {

std::uint32_t Crc32c(std::span<const std::byte> data, std::uint32_t crc) {
  // ISA-L keeps the register un-inverted and takes an int length.
  std::uint32_t state = ~crc;
  while (!data.empty()) {
    std::size_t piece = std::min<std::size_t>(data.size(), std::size_t{1} << 30);
    auto* bytes = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(data.data()));
    state = crc32_iscsi(bytes, static_cast<int>(piece), state);
    data = data.subspan(piece);
  }
  return ~state;
}

}  // namespace stowage::codec
