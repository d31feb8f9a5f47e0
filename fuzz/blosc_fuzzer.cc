// Fuzzes numcodecs' Blosc chunk decoder (codec::BloscCompressor), which reads
// the inner codec and shuffle from the buffer's own header. Input: a mode
// byte (the inner codec, shuffle and element size of the re-encoding), three
// bytes of expected decoded size, then the stored bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/blosc_compressor.h"
#include "codec_fuzzer.h"

using namespace stowage;  // NOLINT

// The inner codecs a re-encoding may use.
static const char* const kCnames[] = {"lz4", "blosclz", "zstd", "zlib"};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  std::uint8_t mode = input.Byte();
  std::size_t expected = fuzz::TakeDecodedSize(input);
  codec::BloscCompressor::Options options;
  options.cname = kCnames[mode & 3];
  options.shuffle = (mode >> 2) % 3;  // none, byte, bit
  std::size_t item_size = std::size_t{1} << ((mode >> 4) & 3);
  codec::BloscCompressor blosc(options);
  fuzz::FuzzCompressor(blosc, blosc, expected, item_size, input);
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  // mode: cname (bits 0-1), shuffle (bits 2-3), item size 2^(bits 4-5).
  for (std::uint8_t mode : {0x04, 0x19, 0x2A, 0x37, 0x00, 0x31}) {
    for (std::size_t size : {0, 100, 5000}) {
      codec::BloscCompressor::Options options;
      options.cname = kCnames[mode & 3];
      options.shuffle = (mode >> 2) % 3;
      auto stored = codec::BloscCompressor(options).Encode(fuzz::SampleData(size),
                                                           std::size_t{1} << ((mode >> 4) & 3));
      fuzz::Check(stored.has_value(), "seed data compresses");
      seeds.push_back(fuzz::MakeSeed(
          options.cname + "_mode" + std::to_string(mode) + "_size" + std::to_string(size),
          {mode, static_cast<std::uint8_t>(size), static_cast<std::uint8_t>(size >> 8), 0},
          *stored));
    }
  }
  return seeds;
}
