// Fuzzes numcodecs' zlib and gzip chunk decoders (codec::ZlibCompressor).
// Input: a mode byte (bit 0: gzip, else zlib), three bytes of expected
// decoded size, then the stored bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/zlib_compressor.h"
#include "codec_fuzzer.h"

using namespace stowage;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  std::uint8_t mode = input.Byte();
  std::size_t expected = fuzz::TakeDecodedSize(input);
  auto format =
      (mode & 1) ? codec::ZlibCompressor::Format::kGzip : codec::ZlibCompressor::Format::kZlib;
  codec::ZlibCompressor zlib(format, /*level=*/1);
  fuzz::FuzzCompressor(zlib, zlib, expected, 1, input);
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  for (std::size_t size : {0, 100, 5000}) {
    Bytes data = fuzz::SampleData(size);
    for (std::uint8_t mode : {0, 1}) {
      auto format =
          mode ? codec::ZlibCompressor::Format::kGzip : codec::ZlibCompressor::Format::kZlib;
      auto stored = codec::ZlibCompressor(format, 6).Encode(data, 1);
      fuzz::Check(stored.has_value(), "seed data compresses");
      seeds.push_back(fuzz::MakeSeed(
          std::string(mode ? "gzip" : "zlib") + "_size" + std::to_string(size),
          {mode, static_cast<std::uint8_t>(size), static_cast<std::uint8_t>(size >> 8), 0},
          *stored));
    }
  }
  // Two gzip members back to back.
  auto member = codec::ZlibCompressor(codec::ZlibCompressor::Format::kGzip)
                    .Encode(fuzz::SampleData(30), 1)
                    .value();
  Bytes two = member;
  two.insert(two.end(), member.begin(), member.end());
  seeds.push_back(fuzz::MakeSeed("gzip_two_members", {1, 60, 0, 0}, two));
  return seeds;
}
