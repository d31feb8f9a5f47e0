#include "codec/lz4_compressor.h"

#include <lz4.h>

#include <climits>
#include <cstdint>
#include <string>

#include "codec/params.h"

namespace stowage::codec {
namespace {

constexpr std::string_view kId = "lz4";
constexpr std::size_t kHeaderSize = 4;

void StoreLittleEndian32(std::uint32_t value, std::byte* out) {
  for (std::size_t i = 0; i < kHeaderSize; ++i) out[i] = std::byte((value >> (8 * i)) & 0xff);
}

std::uint32_t LoadLittleEndian32(const std::byte* in) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < kHeaderSize; ++i) {
    value |= std::to_integer<std::uint32_t>(in[i]) << (8 * i);
  }
  return value;
}

}  // namespace

Lz4Compressor::Lz4Compressor(int acceleration) : acceleration_(acceleration) {}

Result<std::unique_ptr<Compressor>> Lz4Compressor::FromJson(const nlohmann::json& config) {
  STOWAGE_ASSIGN_OR_RETURN(
      auto acceleration,
      internal::IntParam(config, kId, "acceleration", kDefaultAcceleration, INT_MIN, INT_MAX));
  return std::unique_ptr<Compressor>(
      std::make_unique<Lz4Compressor>(static_cast<int>(acceleration)));
}

Result<Bytes> Lz4Compressor::Encode(std::span<const std::byte> input, std::size_t) const {
  if (input.size() > LZ4_MAX_INPUT_SIZE) {
    return InvalidArgumentError("lz4: cannot compress " + std::to_string(input.size()) +
                                " bytes (limit " + std::to_string(LZ4_MAX_INPUT_SIZE) + ")");
  }
  int input_size = static_cast<int>(input.size());
  int bound = LZ4_compressBound(input_size);
  Bytes output(kHeaderSize + static_cast<std::size_t>(bound));
  StoreLittleEndian32(static_cast<std::uint32_t>(input.size()), output.data());
  int size = LZ4_compress_fast(reinterpret_cast<const char*>(input.data()),
                               reinterpret_cast<char*>(output.data() + kHeaderSize), input_size,
                               bound, acceleration_);
  if (size <= 0) return InternalError("lz4: compression failed");
  output.resize(kHeaderSize + static_cast<std::size_t>(size));
  return output;
}

Status Lz4Compressor::DecodeInto(std::span<const std::byte> input,
                                 std::span<std::byte> output) const {
  if (input.size() < kHeaderSize) {
    return internal::CodecDataLoss(kId, "input shorter than the 4-byte size header");
  }
  STOWAGE_RETURN_IF_ERROR(
      internal::CheckDecodedSize(kId, LoadLittleEndian32(input.data()), output.size()));
  std::span<const std::byte> block = input.subspan(kHeaderSize);
  if (block.size() > INT_MAX) return internal::CodecDataLoss(kId, "block too large");
  int size = LZ4_decompress_safe(reinterpret_cast<const char*>(block.data()),
                                 reinterpret_cast<char*>(output.data()),
                                 static_cast<int>(block.size()), static_cast<int>(output.size()));
  if (size < 0) return internal::CodecDataLoss(kId, "corrupt or truncated block");
  return internal::CheckDecodedSize(kId, static_cast<std::size_t>(size), output.size());
}

nlohmann::json Lz4Compressor::ToJson() const {
  return {{"id", kId}, {"acceleration", acceleration_}};
}

}  // namespace stowage::codec
