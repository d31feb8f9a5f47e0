// Test data for the codec tests (header-only; used by *_test.cc only).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>

#include "base/bytes.h"
#include "codec/compressor.h"

namespace stowage::codec::testing {

// `n` uniformly random bytes from a fixed seed.
inline Bytes RandomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  Bytes bytes(n);
  for (auto& b : bytes) b = std::byte(byte(rng));
  return bytes;
}

// `n` bytes of slowly varying little-endian int32 values with a little noise:
// every codec shrinks them.
inline Bytes CompressibleBytes(std::size_t n) {
  std::mt19937 rng(7);
  Bytes bytes(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t value = static_cast<std::uint32_t>(i / 4 / 16) + (rng() % 8 == 0 ? 1 : 0);
    bytes[i] = std::byte((value >> (8 * (i % 4))) & 0xff);
  }
  return bytes;
}

// Little-endian bytes of the integers `values` of width `width` (1..8).
inline Bytes LittleEndian(const std::vector<std::int64_t>& values, std::size_t width) {
  Bytes bytes;
  for (std::int64_t v : values) {
    for (std::size_t i = 0; i < width; ++i) {
      bytes.push_back(std::byte((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
    }
  }
  return bytes;
}

// 0, step, 2*step, ... (`count` values) as little-endian integers of `width`.
inline Bytes Arange(std::size_t count, std::size_t width, std::int64_t step = 1) {
  std::vector<std::int64_t> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<std::int64_t>(i) * step;
  return LittleEndian(values, width);
}

// The bytes a hex string spells (two digits per byte, no separators).
inline Bytes FromHex(std::string_view hex) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  Bytes bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = std::byte(digit(hex[2 * i]) * 16 + digit(hex[2 * i + 1]));
  }
  return bytes;
}

// The compressor for a JSON text that must be valid (fails the test if not).
inline std::unique_ptr<Compressor> Make(std::string_view json_text) {
  auto compressor = MakeCompressor(nlohmann::json::parse(json_text));
  if (!compressor.has_value()) {
    ADD_FAILURE() << json_text << ": " << compressor.error().ToString();
    return nullptr;
  }
  return std::move(compressor).value();
}

// Decodes `input` into a fresh buffer of `size` bytes.
inline Result<Bytes> Decode(const Compressor& compressor, std::span<const std::byte> input,
                            std::size_t size) {
  Bytes output(size);
  STOWAGE_RETURN_IF_ERROR(compressor.DecodeInto(input, output));
  return output;
}

}  // namespace stowage::codec::testing
