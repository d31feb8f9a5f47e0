#include "codec/lz4_compressor.h"

#include <gtest/gtest.h>

#include "codec/test_util.h"
#include "testutil/testutil.h"

namespace stowage::codec {
namespace {

using testing::Arange;
using testing::Decode;
using testing::FromHex;

// Made with Debian's python3-numcodecs 0.11.0 (/usr/bin/python3):
//   numcodecs.LZ4().encode(numpy.arange(16, dtype='<i4')).hex()
// 40000000 is the little-endian size header (64), then one LZ4 block.
constexpr std::string_view kNumcodecsLz4 =
    "40000000f031000000000100000002000000030000000400000005000000060000000700000008000000090000"
    "000a0000000b0000000c0000000d0000000e0000000f000000";

TEST(Lz4CompressorTest, DecodesNumcodecsVector) {
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(Lz4Compressor(), FromHex(kNumcodecsLz4), 64));
  EXPECT_TRUE(decoded == Arange(16, 4));
}

TEST(Lz4CompressorTest, WritesLittleEndianSizeHeader) {
  Bytes input = testing::CompressibleBytes(0x012345);
  ASSERT_OK_AND_ASSIGN(Bytes encoded, Lz4Compressor().Encode(input, 4));
  EXPECT_TRUE(Bytes(encoded.begin(), encoded.begin() + 4) == FromHex("45230100"));
}

TEST(Lz4CompressorTest, HeaderMustMatchOutputSize) {
  Bytes encoded = FromHex(kNumcodecsLz4);
  encoded[0] = std::byte{0x3f};  // claims 63 bytes
  EXPECT_ERROR_CODE(Decode(Lz4Compressor(), encoded, 64), ErrorCode::kDataLoss);
  // The block still holds 64 bytes: decoding into 63 must not overrun.
  EXPECT_ERROR_CODE(Decode(Lz4Compressor(), encoded, 63), ErrorCode::kDataLoss);
  encoded[0] = std::byte{0x40};
  encoded[3] = std::byte{0x80};  // claims 2 GiB + 64
  EXPECT_ERROR_CODE(Decode(Lz4Compressor(), encoded, 64), ErrorCode::kDataLoss);
}

TEST(Lz4CompressorTest, HeaderOnlyIsDataLossUnlessEmptyBlock) {
  EXPECT_ERROR_CODE(Decode(Lz4Compressor(), FromHex("000000"), 0), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(Lz4Compressor(), FromHex("00000000"), 0), ErrorCode::kDataLoss);
  // numcodecs' encoding of b'': the header, then an empty LZ4 block (one token byte).
  ASSERT_OK(Decode(Lz4Compressor(), FromHex("0000000000"), 0));
}

}  // namespace
}  // namespace stowage::codec
