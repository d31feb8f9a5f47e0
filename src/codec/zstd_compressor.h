// numcodecs' Zstd: each chunk is one or more zstd frames (RFC 8878).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "codec/compressor.h"

namespace stowage::codec {

// Writes a single frame that records the content size (so numcodecs, which
// needs it, can read it). Reads any sequence of frames, with or without
// content size (TensorStore omits it), decoding straight into the caller's
// buffer: nothing is allocated from sizes the frames claim.
class ZstdCompressor final : public Compressor {
 public:
  // numcodecs' and TensorStore's default level.
  static constexpr int kDefaultLevel = 1;

  // `level` must lie in [ZSTD_minCLevel(), ZSTD_maxCLevel()]. With `checksum`
  // the frames carry a content checksum (decoding always verifies one).
  explicit ZstdCompressor(int level = kDefaultLevel, bool checksum = false);

  // From {"id":"zstd","level":N,"checksum":B}; both fields are optional.
  // Without "checksum" the frames written still carry a content checksum:
  // the zarr v2 form TensorStore and numcodecs 0.11 accept has no such
  // member, and both verify a checksum a frame carries. Only an explicit
  // "checksum":false writes frames without one.
  static Result<std::unique_ptr<Compressor>> FromJson(const nlohmann::json& config);

  Result<Bytes> Encode(std::span<const std::byte> input, std::size_t item_size) const override;
  Status DecodeInto(std::span<const std::byte> input, std::span<std::byte> output) const override;
  // {"id":"zstd","level":N}, plus "checksum":true only when given so (the
  // form TensorStore writes).
  nlohmann::json ToJson() const override;

 private:
  int level_;
  bool checksum_;
  bool checksum_in_json_;
};

// Decodes `frame`, which must be exactly one zstd frame, into at most
// `max_size` bytes (the frame need not record its content size). Used for
// OCDBT objects, whose decoded size is known only from the frame.
// Errors: kDataLoss (corrupt, trailing bytes, or more than max_size bytes).
Result<Bytes> ZstdDecompressFrame(std::span<const std::byte> frame, std::size_t max_size);

}  // namespace stowage::codec
