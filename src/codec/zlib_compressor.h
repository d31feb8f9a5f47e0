// numcodecs' Zlib and GZip: DEFLATE (RFC 1951) inside a zlib stream
// (RFC 1950, id "zlib") or a gzip member (RFC 1952, id "gzip").
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "codec/compressor.h"

namespace stowage::codec {

class ZlibCompressor final : public Compressor {
 public:
  enum class Format {
    kZlib,  // writes and reads exactly one zlib stream
    kGzip,  // writes one gzip member; reads one or more members (or a zlib stream)
  };
  // numcodecs' default level for both.
  static constexpr int kDefaultLevel = 1;

  // `level` in [-1, 9] (-1: zlib's default, 0: stored).
  ZlibCompressor(Format format, int level = kDefaultLevel);

  // From {"id":"zlib","level":N} / {"id":"gzip","level":N}; level optional.
  static Result<std::unique_ptr<Compressor>> ZlibFromJson(const nlohmann::json& config);
  static Result<std::unique_ptr<Compressor>> GzipFromJson(const nlohmann::json& config);

  Result<Bytes> Encode(std::span<const std::byte> input, std::size_t item_size) const override;
  Status DecodeInto(std::span<const std::byte> input, std::span<std::byte> output) const override;
  nlohmann::json ToJson() const override;

 private:
  std::string_view id() const;

  Format format_;
  int level_;
};

}  // namespace stowage::codec
