// numcodecs' LZ4: a 4-byte little-endian uncompressed size, then one LZ4
// block (not the LZ4 frame format).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "codec/compressor.h"

namespace stowage::codec {

class Lz4Compressor final : public Compressor {
 public:
  // numcodecs' default; LZ4 treats values below 1 as 1.
  static constexpr int kDefaultAcceleration = 1;

  explicit Lz4Compressor(int acceleration = kDefaultAcceleration);

  // From {"id":"lz4","acceleration":N}; acceleration optional.
  static Result<std::unique_ptr<Compressor>> FromJson(const nlohmann::json& config);

  // Errors: kInvalidArgument when input exceeds LZ4's ~2 GiB block limit.
  Result<Bytes> Encode(std::span<const std::byte> input, std::size_t item_size) const override;
  // The size header must equal output.size(), and the block must fill it.
  Status DecodeInto(std::span<const std::byte> input, std::span<std::byte> output) const override;
  nlohmann::json ToJson() const override;

 private:
  int acceleration_;
};

}  // namespace stowage::codec
