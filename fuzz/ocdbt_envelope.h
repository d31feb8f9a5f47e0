// Builds the OCDBT object the OCDBT fuzzers decode. An object's CRC-32C
// would stop almost every mutation at the envelope check, so the first input
// byte chooses how the rest becomes an object:
//   0  the rest as is (exercises the envelope checks themselves);
//   1  the rest as an uncompressed body, wrapped with a valid length and CRC;
//   2  the rest as a body, zstd-compressed and wrapped;
//   3  the rest as a whole object whose length and CRC fields are made valid
//      (exercises hostile zstd frames, versions and compression codes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "codec/crc32c.h"
#include "fuzz_input.h"
#include "kvstore/ocdbt_codec.h"

namespace stowage::fuzz {

inline Bytes OcdbtObject(std::uint32_t magic, FuzzInput& input) {
  std::uint8_t mode = input.Byte() % 4;
  auto rest = input.Rest();
  if (mode == 1 || mode == 2) {
    auto wrapped =
        kvstore::ocdbt::EncodeEnvelope(magic, rest, mode == 2 ? std::optional(1) : std::nullopt);
    Check(wrapped.has_value(), "any body can be wrapped");
    return std::move(*wrapped);
  }
  Bytes object(rest.begin(), rest.end());
  if (mode == 3 && object.size() >= 16) {
    for (int i = 0; i < 8; ++i) object[4 + i] = std::byte((object.size() >> (8 * i)) & 0xff);
    std::uint32_t crc = codec::Crc32c(std::span(object).first(object.size() - 4));
    for (int i = 0; i < 4; ++i) object[object.size() - 4 + i] = std::byte((crc >> (8 * i)) & 0xff);
  }
  return object;
}

// Seeds for an OCDBT fuzzer from objects stowage encodes: each object as is
// (mode 0), with a damaged CRC-32C that mode 3 repairs, and each
// uncompressed object's body (mode 1) and compressed (mode 2).
inline void AddOcdbtSeeds(std::vector<Seed>& seeds, const std::string& name,
                          std::span<const std::byte> uncompressed,
                          std::span<const std::byte> compressed) {
  constexpr std::size_t kBodyStart = 14, kCrcBytes = 4;  // magic, length, version, compression
  auto body = uncompressed.subspan(kBodyStart, uncompressed.size() - kBodyStart - kCrcBytes);
  seeds.push_back(MakeSeed(name + "_object", {0}, uncompressed));
  seeds.push_back(MakeSeed(name + "_body", {1}, body));
  seeds.push_back(MakeSeed(name + "_body_zstd", {2}, body));
  Bytes damaged(compressed.begin(), compressed.end());
  damaged.back() ^= std::byte{1};
  seeds.push_back(MakeSeed(name + "_zstd_bad_crc", {3}, damaged));
}

}  // namespace stowage::fuzz
