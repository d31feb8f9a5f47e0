// Fuzzes numcodecs' LZ4 chunk decoder (codec::Lz4Compressor): a 4-byte size
// header and one LZ4 block. Input: three bytes of expected decoded size,
// then the stored bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/lz4_compressor.h"
#include "codec_fuzzer.h"

using namespace stowage;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  std::size_t expected = fuzz::TakeDecodedSize(input);
  codec::Lz4Compressor lz4;
  fuzz::FuzzCompressor(lz4, lz4, expected, 1, input);
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  for (std::size_t size : {0, 1, 100, 5000}) {
    auto stored = codec::Lz4Compressor().Encode(fuzz::SampleData(size), 1);
    fuzz::Check(stored.has_value(), "seed data compresses");
    seeds.push_back(fuzz::MakeSeed(
        "size" + std::to_string(size),
        {static_cast<std::uint8_t>(size), static_cast<std::uint8_t>(size >> 8), 0}, *stored));
  }
  return seeds;
}
