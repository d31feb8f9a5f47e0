// numcodecs' Blosc: a c-blosc 1.x buffer (16-byte header, then blocks
// compressed by an inner codec after an optional byte or bit shuffle).
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "codec/compressor.h"

namespace stowage::codec {

// Uses only c-blosc's context functions (no global state, one internal
// thread), so concurrent calls are safe. Decoding reads the inner codec and
// shuffle from the buffer's header, so any buffer c-blosc 1.x wrote decodes,
// whatever this compressor's own parameters are.
class BloscCompressor final : public Compressor {
 public:
  // numcodecs' shuffle codes.
  static constexpr int kAutoShuffle = -1;  // bit shuffle if item_size == 1, else byte shuffle
  static constexpr int kNoShuffle = 0;
  static constexpr int kShuffle = 1;
  static constexpr int kBitShuffle = 2;

  struct Options {
    std::string cname = "lz4";  // blosclz, lz4, lz4hc, snappy, zlib or zstd
    int clevel = 5;             // 0..9
    int shuffle = kShuffle;     // kAutoShuffle..kBitShuffle
    std::size_t blocksize = 0;  // 0: c-blosc chooses
  };

  // `options` must be valid (FromJson checks them).
  explicit BloscCompressor(Options options);

  // From {"id":"blosc","cname":...,"clevel":...,"shuffle":...,"blocksize":...},
  // all optional (numcodecs' defaults). Errors: kUnsupported for a cname this
  // build of c-blosc lacks; kDataLoss for a wrong-typed or out-of-range field.
  static Result<std::unique_ptr<Compressor>> FromJson(const nlohmann::json& config);

  // `item_size` is the shuffle's element size (c-blosc treats > 255 as 1).
  // Errors: kInvalidArgument when input exceeds c-blosc's 2 GiB limit.
  Result<Bytes> Encode(std::span<const std::byte> input, std::size_t item_size) const override;
  // Checks the header against input.size() and output.size() before
  // decompressing. Bytes after the header's compressed size are ignored (as
  // numcodecs does).
  Status DecodeInto(std::span<const std::byte> input, std::span<std::byte> output) const override;
  nlohmann::json ToJson() const override;

 private:
  Options options_;
};

}  // namespace stowage::codec
