// Fuzzes numcodecs' zstd chunk decoder (codec::ZstdCompressor::DecodeInto)
// and the single-frame decoder OCDBT objects use (codec::ZstdDecompressFrame).
// Input: a mode byte (bit 0: ZstdDecompressFrame), three bytes of expected
// size (the exact chunk size, or the frame's maximum), then the stored bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/zstd_compressor.h"
#include "codec_fuzzer.h"

namespace {

using namespace stowage;  // NOLINT

void FuzzFrame(std::size_t max_size, fuzz::FuzzInput& input) {
  auto decoded = codec::ZstdDecompressFrame(input.Rest(), max_size);
  if (!decoded) return;
  fuzz::Check(decoded->size() <= max_size, "a frame decodes to at most max_size bytes");
  auto encoded = codec::ZstdCompressor().Encode(*decoded, 1);
  fuzz::Check(encoded.has_value(), "decoded bytes encode");
  auto again = codec::ZstdDecompressFrame(*encoded, max_size);
  fuzz::Check(again.has_value() && *again == *decoded, "an encoded frame decodes to its input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  std::uint8_t mode = input.Byte();
  std::size_t expected = fuzz::TakeDecodedSize(input);
  if (mode & 1) {
    FuzzFrame(expected, input);
  } else {
    codec::ZstdCompressor zstd(1, /*checksum=*/(mode & 2) != 0);
    fuzz::FuzzCompressor(zstd, zstd, expected, 1, input);
  }
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  for (std::size_t size : {0, 1, 100, 5000}) {
    Bytes data = fuzz::SampleData(size);
    auto u8 = [](std::size_t v, int i) { return static_cast<std::uint8_t>(v >> (8 * i)); };
    for (std::uint8_t mode : {0, 1, 2}) {
      auto frame = codec::ZstdCompressor(3, /*checksum=*/mode == 2).Encode(data, 1);
      fuzz::Check(frame.has_value(), "seed data compresses");
      seeds.push_back(fuzz::MakeSeed("mode" + std::to_string(mode) + "_size" + std::to_string(size),
                                     {mode, u8(size, 0), u8(size, 1), u8(size, 2)}, *frame));
    }
  }
  // Two frames back to back (numcodecs reads them as one chunk).
  auto frame = codec::ZstdCompressor().Encode(fuzz::SampleData(40), 1).value();
  Bytes two = frame;
  two.insert(two.end(), frame.begin(), frame.end());
  seeds.push_back(fuzz::MakeSeed("two_frames", {0, 80, 0, 0}, two));
  return seeds;
}
