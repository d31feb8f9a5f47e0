#include "codec/zlib_compressor.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/test_util.h"
#include "testutil/testutil.h"

namespace stowage::codec {
namespace {

using testing::Arange;
using testing::Decode;
using testing::FromHex;
using Format = ZlibCompressor::Format;

// Made with Debian's python3-numcodecs 0.11.0 (/usr/bin/python3), data
// numpy.arange(16, dtype='<i4') (64 bytes):
//   numcodecs.Zlib(level=1).encode(data).hex()
constexpr std::string_view kNumcodecsZlib1 =
    "78010dc30912c0101000b075548be2ffbf95cc242222992d561f9baf9fdde1f477b93d5e0ae00079";
//   numcodecs.Zlib(level=9).encode(data).hex()
constexpr std::string_view kNumcodecsZlib9 =
    "78da0dc30912c0101000b075548be2ffbf95cc242222992d561f9baf9fdde1f477b93d5e0ae00079";
//   numcodecs.GZip(level=1).encode(data).hex()
constexpr std::string_view kNumcodecsGzip1 =
    "1f8b080080750b6b04ff0dc30912c0101000b075548be2ffbf95cc242222992d561f9baf9fdde1f477b93d5e"
    "c97c89e140000000";

TEST(ZlibCompressorTest, DecodesNumcodecsVectors) {
  const std::pair<Format, std::string_view> cases[] = {
      {Format::kZlib, kNumcodecsZlib1},
      {Format::kZlib, kNumcodecsZlib9},
      {Format::kGzip, kNumcodecsGzip1},
  };
  for (const auto& [format, hex] : cases) {
    ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(ZlibCompressor(format), FromHex(hex), 64));
    EXPECT_TRUE(decoded == Arange(16, 4)) << hex;
  }
}

// The gzip payloads of TensorStore's N5 test blocks (see the fixtures'
// PROVENANCE.md): a 12-byte N5 block header, then one gzip member that
// decodes to the 12 bytes the matching raw block holds after its header.
TEST(ZlibCompressorTest, DecodesTensorStoreN5GzipBlocks) {
  constexpr std::size_t kN5Header = 12;
  for (const char* block : {"0/0", "0/1", "1/0", "1/1"}) {
    const std::string base = "tensorstore/tensorstore/driver/n5/testdata/";
    auto gzip_path = stowage::testing::FixturePath(base + "gzip/" + block);
    auto raw_path = stowage::testing::FixturePath(base + "raw/" + block);
    if (!gzip_path || !raw_path) GTEST_SKIP() << "TensorStore N5 fixtures absent";
    std::string gzip = stowage::testing::ReadFileOrDie(*gzip_path);
    std::string raw = stowage::testing::ReadFileOrDie(*raw_path);
    ASSERT_GT(gzip.size(), kN5Header);
    ASSERT_EQ(raw.size(), kN5Header + 12);
    ASSERT_OK_AND_ASSIGN(
        Bytes decoded, Decode(ZlibCompressor(Format::kGzip), AsBytes(gzip).subspan(kN5Header), 12));
    EXPECT_EQ(AsStringView(decoded), raw.substr(kN5Header)) << block;
    EXPECT_ERROR_CODE(Decode(ZlibCompressor(Format::kZlib), AsBytes(gzip).subspan(kN5Header), 12),
                      ErrorCode::kDataLoss);
  }
}

TEST(ZlibCompressorTest, WritesTheRightHeader) {
  Bytes input = testing::CompressibleBytes(1000);
  ASSERT_OK_AND_ASSIGN(Bytes zlib, ZlibCompressor(Format::kZlib).Encode(input, 4));
  ASSERT_OK_AND_ASSIGN(Bytes gzip, ZlibCompressor(Format::kGzip).Encode(input, 4));
  EXPECT_EQ(std::to_integer<int>(zlib[0]), 0x78);  // deflate, 32 KiB window
  EXPECT_EQ(std::to_integer<int>(gzip[0]), 0x1f);  // gzip magic 1f 8b
  EXPECT_EQ(std::to_integer<int>(gzip[1]), 0x8b);
}

// Python's gzip (which numcodecs' GZip uses) reads concatenated members.
TEST(ZlibCompressorTest, GzipDecodesConcatenatedMembers) {
  Bytes first = testing::CompressibleBytes(700), second = testing::RandomBytes(300, 1);
  ZlibCompressor gzip(Format::kGzip);
  ASSERT_OK_AND_ASSIGN(Bytes input, gzip.Encode(first, 1));
  ASSERT_OK_AND_ASSIGN(Bytes more, gzip.Encode(second, 1));
  input.insert(input.end(), more.begin(), more.end());
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(gzip, input, 1000));
  Bytes expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_TRUE(decoded == expected);
  EXPECT_ERROR_CODE(Decode(gzip, input, 700), ErrorCode::kDataLoss);
}

TEST(ZlibCompressorTest, TrailingBytesAreDataLoss) {
  Bytes input = testing::CompressibleBytes(500);
  for (Format format : {Format::kZlib, Format::kGzip}) {
    ZlibCompressor codec(format);
    ASSERT_OK_AND_ASSIGN(Bytes encoded, codec.Encode(input, 4));
    encoded.push_back(std::byte{0x42});
    EXPECT_ERROR_CODE(Decode(codec, encoded, input.size()), ErrorCode::kDataLoss);
  }
}

TEST(ZlibCompressorTest, GzipReaderAlsoAcceptsZlibStream) {
  Bytes input = testing::CompressibleBytes(500);
  ASSERT_OK_AND_ASSIGN(Bytes zlib, ZlibCompressor(Format::kZlib).Encode(input, 4));
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(ZlibCompressor(Format::kGzip), zlib, input.size()));
  EXPECT_TRUE(decoded == input);
}

TEST(ZlibCompressorTest, CorruptChecksumIsDataLoss) {
  Bytes input = testing::CompressibleBytes(500);
  for (Format format : {Format::kZlib, Format::kGzip}) {
    ZlibCompressor codec(format);
    ASSERT_OK_AND_ASSIGN(Bytes encoded, codec.Encode(input, 4));
    // zlib ends with adler32; gzip with crc32 then the size: hit a checksum byte.
    encoded[encoded.size() - (format == Format::kZlib ? 1 : 5)] ^= std::byte{1};
    EXPECT_ERROR_CODE(Decode(codec, encoded, input.size()), ErrorCode::kDataLoss);
  }
}

}  // namespace
}  // namespace stowage::codec
