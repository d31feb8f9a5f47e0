// Primitive encodings of OCDBT (tensorstore/kvstore/ocdbt/index.rst;
// tensorstore-formats.md C2, C3): LEB128 varints, fixed-width integers, and
// the envelope every manifest and node is wrapped in (magic, length,
// version, optional zstd, CRC-32C).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "stowage/error.h"

namespace stowage::kvstore::ocdbt {

inline constexpr std::uint32_t kManifestMagic = 0x0CDB3A2A;
inline constexpr std::uint32_t kVersionNodeMagic = 0x0CDB1234;
inline constexpr std::uint32_t kBtreeNodeMagic = 0x0CDB20DE;

// Length of the longest common prefix of `a` and `b` (keys, paths).
inline std::size_t CommonPrefixLength(std::string_view a, std::string_view b) {
  std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Reads a body front to back. The first failure is sticky: later reads
// return zeros and `ok()` stays false, so codecs read whole columns and
// check once. Never reads past the end.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}

  std::uint64_t Varint64();
  // A varint that must fit in `max`; larger values fail with `what`.
  std::uint64_t VarintAtMost(std::uint64_t max, std::string_view what);
  std::uint8_t Byte();
  std::uint32_t U32Le();
  std::uint64_t U64Le();
  // The next `n` bytes (empty span after a failure).
  std::span<const std::byte> Take(std::uint64_t n);

  // Records a failure (only the first is kept).
  void Fail(std::string message);

  bool ok() const { return !error_.has_value(); }
  const std::string& error() const { return *error_; }
  std::size_t remaining() const { return data_.size() - position_; }

 private:
  std::span<const std::byte> data_;
  std::size_t position_ = 0;
  std::optional<std::string> error_;
};

// Appends encodings to a byte string.
class ByteWriter {
 public:
  void Varint(std::uint64_t value);
  void Byte(std::uint8_t value);
  void U32Le(std::uint32_t value);
  void U64Le(std::uint64_t value);
  void Append(std::span<const std::byte> bytes);
  void Append(std::string_view bytes);

  Bytes& bytes() { return bytes_; }

 private:
  Bytes bytes_;
};

// Wraps `body` in the envelope: zstd-compressed at `zstd_level` when set
// (0 = zstd's default), uncompressed otherwise.
Result<Bytes> EncodeEnvelope(std::uint32_t magic, std::span<const std::byte> body,
                             std::optional<int> zstd_level);

// Checks an envelope (size, magic, version, CRC-32C) and returns its body,
// decompressed, at most `max_body_bytes` long. `path` names the file in
// errors. Errors: kDataLoss.
Result<Bytes> DecodeEnvelope(std::span<const std::byte> encoded, std::uint32_t magic,
                             std::size_t max_body_bytes, std::string_view path);

}  // namespace stowage::kvstore::ocdbt
