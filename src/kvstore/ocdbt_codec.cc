#include "kvstore/ocdbt_codec.h"

#include <cstdio>

#include "codec/crc32c.h"
#include "codec/zstd_compressor.h"

namespace stowage::kvstore::ocdbt {
namespace {

constexpr std::size_t kHeaderSize = 12;  // magic + length
constexpr std::size_t kCrcSize = 4;

std::string Hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

std::uint32_t LoadU32Be(const std::byte* p) {
  return (std::to_integer<std::uint32_t>(p[0]) << 24) |
         (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

std::uint64_t LoadLe(const std::byte* p, int width) {
  std::uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint64_t>(p[i]);
  return value;
}

void StoreLe(std::byte* p, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) p[i] = static_cast<std::byte>(value >> (8 * i));
}

}  // namespace

std::uint64_t ByteReader::Varint64() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (position_ >= data_.size()) {
      Fail("truncated varint");
      return 0;
    }
    auto byte = std::to_integer<std::uint8_t>(data_[position_++]);
    if (shift == 63 && byte > 1) break;  // more than 64 bits
    value |= std::uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return value;
  }
  Fail("varint overflows 64 bits");
  return 0;
}

std::uint64_t ByteReader::VarintAtMost(std::uint64_t max, std::string_view what) {
  std::uint64_t value = Varint64();
  if (ok() && value > max) {
    Fail(std::string(what) + " " + std::to_string(value) + " exceeds the limit of " +
         std::to_string(max));
    return 0;
  }
  return value;
}

std::uint8_t ByteReader::Byte() {
  auto bytes = Take(1);
  return bytes.empty() ? 0 : std::to_integer<std::uint8_t>(bytes[0]);
}

std::uint32_t ByteReader::U32Le() {
  auto bytes = Take(4);
  return bytes.empty() ? 0 : static_cast<std::uint32_t>(LoadLe(bytes.data(), 4));
}

std::uint64_t ByteReader::U64Le() {
  auto bytes = Take(8);
  return bytes.empty() ? 0 : LoadLe(bytes.data(), 8);
}

std::span<const std::byte> ByteReader::Take(std::uint64_t n) {
  if (!ok()) return {};
  if (n > remaining()) {
    Fail("needs " + std::to_string(n) + " more bytes, only " + std::to_string(remaining()) +
         " remain");
    return {};
  }
  auto bytes = data_.subspan(position_, n);
  position_ += n;
  return bytes;
}

void ByteReader::Fail(std::string message) {
  if (!error_) error_ = std::move(message);
  position_ = data_.size();
}

void ByteWriter::Varint(std::uint64_t value) {
  while (value >= 0x80) {
    bytes_.push_back(static_cast<std::byte>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  bytes_.push_back(static_cast<std::byte>(value));
}

void ByteWriter::Byte(std::uint8_t value) { bytes_.push_back(static_cast<std::byte>(value)); }

void ByteWriter::U32Le(std::uint32_t value) {
  std::byte buffer[4];
  StoreLe(buffer, value, 4);
  Append(buffer);
}

void ByteWriter::U64Le(std::uint64_t value) {
  std::byte buffer[8];
  StoreLe(buffer, value, 8);
  Append(buffer);
}

void ByteWriter::Append(std::span<const std::byte> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void ByteWriter::Append(std::string_view bytes) {
  Append(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

Result<Bytes> EncodeEnvelope(std::uint32_t magic, std::span<const std::byte> body,
                             std::optional<int> zstd_level) {
  ByteWriter writer;
  for (int shift = 24; shift >= 0; shift -= 8)
    writer.Byte(static_cast<std::uint8_t>(magic >> shift));
  writer.U64Le(0);   // length, filled in below
  writer.Varint(0);  // format version
  writer.Varint(zstd_level ? 1 : 0);
  if (zstd_level) {
    STOWAGE_ASSIGN_OR_RETURN(Bytes frame, codec::ZstdCompressor(*zstd_level).Encode(body, 1));
    writer.Append(frame);
  } else {
    writer.Append(body);
  }
  Bytes& bytes = writer.bytes();
  StoreLe(bytes.data() + 4, bytes.size() + kCrcSize, 8);
  writer.U32Le(codec::Crc32c(bytes));
  return std::move(writer.bytes());
}

Result<Bytes> DecodeEnvelope(std::span<const std::byte> encoded, std::uint32_t magic,
                             std::size_t max_body_bytes, std::string_view path) {
  auto fail = [&](const std::string& problem) {
    return DataLossError(std::string(path) + ": " + problem);
  };
  if (encoded.size() < kHeaderSize + 2 + kCrcSize) {
    return fail("only " + std::to_string(encoded.size()) + " bytes, too short for an OCDBT object");
  }
  std::uint32_t found_magic = LoadU32Be(encoded.data());
  if (found_magic != magic) {
    return fail("magic " + Hex32(found_magic) + ", expected " + Hex32(magic));
  }
  std::uint64_t length = LoadLe(encoded.data() + 4, 8);
  if (length != encoded.size()) {
    return fail("header gives length " + std::to_string(length) + " but the object is " +
                std::to_string(encoded.size()) + " bytes");
  }
  std::size_t crc_offset = encoded.size() - kCrcSize;
  std::uint32_t stored_crc = static_cast<std::uint32_t>(LoadLe(encoded.data() + crc_offset, 4));
  std::uint32_t actual_crc = codec::Crc32c(encoded.first(crc_offset));
  if (stored_crc != actual_crc) {
    return fail("CRC-32C mismatch (stored " + Hex32(stored_crc) + ", computed " +
                Hex32(actual_crc) + ")");
  }
  ByteReader reader(encoded.subspan(kHeaderSize, crc_offset - kHeaderSize));
  std::uint64_t version = reader.Varint64();
  std::uint64_t compression = reader.Varint64();
  if (!reader.ok()) return fail(reader.error());
  if (version != 0) return fail("format version " + std::to_string(version) + " is not 0");
  auto body = reader.Take(reader.remaining());
  if (compression == 0) {
    if (body.size() > max_body_bytes) {
      return fail("body of " + std::to_string(body.size()) + " bytes exceeds the limit");
    }
    return Bytes(body.begin(), body.end());
  }
  if (compression != 1) return fail("unknown compression format " + std::to_string(compression));
  auto decoded = codec::ZstdDecompressFrame(body, max_body_bytes);
  if (!decoded) return fail(decoded.error().message());
  return std::move(*decoded);
}

}  // namespace stowage::kvstore::ocdbt
