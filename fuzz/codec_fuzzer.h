// The common body of the chunk-compressor fuzzers: decode hostile bytes into
// a buffer of a size the input chooses, then check that whatever decoded
// survives an encode/decode round trip unchanged.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/compressor.h"
#include "fuzz_input.h"

namespace stowage::fuzz {

// Largest decoded chunk the compressor fuzzers ask for.
inline constexpr std::size_t kMaxDecodedChunkBytes = std::size_t{1} << 18;

// The expected decoded size: three input bytes, at most kMaxDecodedChunkBytes.
inline std::size_t TakeDecodedSize(FuzzInput& input) {
  return input.LittleEndian(3) % (kMaxDecodedChunkBytes + 1);
}

// Decodes input.Rest() with `decoder` into `size` bytes; on success, encodes
// them with `encoder` and checks they decode back the same.
inline void FuzzCompressor(const codec::Compressor& decoder, const codec::Compressor& encoder,
                           std::size_t size, std::size_t item_size, FuzzInput& input) {
  Bytes decoded(size);
  if (!decoder.DecodeInto(input.Rest(), decoded).has_value()) return;
  auto encoded = encoder.Encode(decoded, item_size);
  Check(encoded.has_value(), "decoded bytes encode");
  Bytes again(size);
  Check(decoder.DecodeInto(*encoded, again).has_value(), "encoded bytes decode");
  Check(again == decoded, "encoded bytes decode to what was encoded");
}

}  // namespace stowage::fuzz
