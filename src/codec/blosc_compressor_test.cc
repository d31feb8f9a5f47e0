#include "codec/blosc_compressor.h"

#include <blosc.h>
#include <gtest/gtest.h>

#include <string>

#include "codec/test_util.h"
#include "testutil/testutil.h"

namespace stowage::codec {
namespace {

using testing::Decode;
using testing::FromHex;

// numpy.tile(numpy.arange(8, dtype='<i4'), n): 0..7 repeated, 32*n bytes.
Bytes Tiled(std::size_t n) {
  Bytes one = testing::Arange(8, 4), all;
  for (std::size_t i = 0; i < n; ++i) all.insert(all.end(), one.begin(), one.end());
  return all;
}

// Made with Debian's python3-numcodecs 0.11.0 (/usr/bin/python3, linked to
// Debian's libblosc1 1.21.3), data = numpy.tile(numpy.arange(8, dtype='<i4'), n):
//   numcodecs.Blosc(cname=C, clevel=5, shuffle=S).encode(data).hex()
struct Vector {
  const char* cname;
  int shuffle;
  std::size_t n;
  std::string_view hex;
};
constexpr Vector kNumcodecsVectors[] = {
    {"lz4", 1, 8,
     "02013104000100000001000037000000140000001f000000ff010001020304050607000102030405060710001e0f"
     "0100a7500000000000"},
    {"lz4hc", 0, 8,
     "02013004000100000001000043000000140000002b000000f00e00000000010000000200000003000000040000"
     "000500000006000000071d000f2000c7500007000000"},
    {"blosclz", 2, 8,
     "02011404000100000001000030000000140000001800000028aaaaaaaaaaaaaaaacca00000f0a0000000e0dc00"
     "010000"},
    {"zstd", 1, 8,
     "02019104000100000001000033000000140000001b00000028b52ffd6000008d000040000102030405060702"
     "003c4001ef2c5c"},
    {"zlib", -1, 8,
     "0201710400010000000100002d0000001400000015000000785e63606462666165636720971ee20000c42000e1"},
    {"snappy", 0, 16,
     "020140040002000000020000c800000014000000290000008001740000000001000000020000000300000004"
     "000000050000000600000007000901fe20006e2000290000008001740000000001000000020000000300000004"
     "000000050000000600000007000901fe20006e2000290000008001740000000001000000020000000300000004"
     "000000050000000600000007000901fe20006e2000290000008001740000000001000000020000000300000004"
     "000000050000000600000007000901fe20006e2000"},
};

TEST(BloscCompressorTest, DecodesNumcodecsVectors) {
  for (const Vector& v : kNumcodecsVectors) {
    SCOPED_TRACE(v.cname);
    Bytes encoded = FromHex(v.hex);
    int flags = std::to_integer<int>(encoded[2]);
    EXPECT_EQ(flags & BLOSC_MEMCPYED, 0) << "vector should exercise the inner codec";
    ASSERT_OK_AND_ASSIGN(auto blosc, BloscCompressor::FromJson({{"cname", v.cname}}));
    ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(*blosc, encoded, 32 * v.n));
    EXPECT_TRUE(decoded == Tiled(v.n));
  }
}

// Made as above with data = (numpy.arange(256) % 7).astype('u1') and
// Blosc(cname='lz4', shuffle=-1): AUTOSHUFFLE on 1-byte items bit-shuffles.
constexpr std::string_view kNumcodecsAutoShuffleU8 =
    "02012401000100000001000044000000140000002c0000007f2a954aa552a9540700067f4c2693c96432990700"
    "067f70381c0e87c3e10700061f00010087500000000000";

TEST(BloscCompressorTest, AutoShuffleMatchesNumcodecs) {
  Bytes data(256);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i % 7);
  BloscCompressor blosc({.shuffle = BloscCompressor::kAutoShuffle});
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(blosc, FromHex(kNumcodecsAutoShuffleU8), 256));
  EXPECT_TRUE(decoded == data);
  // numcodecs' header flags for the same call: bit shuffle for 1-byte items,
  // byte shuffle otherwise.
  ASSERT_OK_AND_ASSIGN(Bytes ours_u8, blosc.Encode(data, 1));
  EXPECT_EQ(ours_u8[2], FromHex(kNumcodecsAutoShuffleU8)[2]);
  ASSERT_OK_AND_ASSIGN(Bytes ours_i4, blosc.Encode(Tiled(8), 4));
  EXPECT_EQ(ours_i4[2], FromHex(kNumcodecsVectors[0].hex)[2]);
}

// TensorStore's N5 blosc blocks (see the fixtures' PROVENANCE.md): a 12-byte
// N5 block header, then a memcpyed blosc buffer of 12 bytes.
TEST(BloscCompressorTest, DecodesTensorStoreN5BloscBlocks) {
  constexpr std::size_t kN5Header = 12;
  for (const char* block : {"0/0", "0/1", "1/0", "1/1"}) {
    const std::string base = "tensorstore/tensorstore/driver/n5/testdata/";
    auto blosc_path = stowage::testing::FixturePath(base + "blosc/" + block);
    auto raw_path = stowage::testing::FixturePath(base + "raw/" + block);
    if (!blosc_path || !raw_path) GTEST_SKIP() << "TensorStore N5 fixtures absent";
    std::string blosc = stowage::testing::ReadFileOrDie(*blosc_path);
    std::string raw = stowage::testing::ReadFileOrDie(*raw_path);
    ASSERT_EQ(raw.size(), kN5Header + 12);
    ASSERT_OK_AND_ASSIGN(Bytes decoded,
                         Decode(BloscCompressor({}), AsBytes(blosc).subspan(kN5Header), 12));
    EXPECT_EQ(AsStringView(decoded), raw.substr(kN5Header)) << block;
  }
}

// A valid 16-byte header (version 2, lz4, byte shuffle, typesize 4) with the
// given sizes, followed by `payload` bytes of zeros.
Bytes Header(std::uint32_t nbytes, std::uint32_t blocksize, std::uint32_t cbytes,
             std::size_t payload) {
  Bytes header = FromHex("02013104");
  for (std::uint32_t v : {nbytes, blocksize, cbytes}) {
    Bytes le = testing::LittleEndian({v}, 4);
    header.insert(header.end(), le.begin(), le.end());
  }
  header.resize(header.size() + payload);
  return header;
}

TEST(BloscCompressorTest, HostileHeadersAreDataLoss) {
  BloscCompressor blosc({});
  // Claims 2 GiB of output: rejected before anything is allocated.
  EXPECT_ERROR_CODE(Decode(blosc, Header(0x7fffffff, 65536, 64, 48), 256), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(blosc, Header(0xffffffff, 65536, 64, 48), 256), ErrorCode::kDataLoss);
  // Claims more compressed bytes than there are.
  EXPECT_ERROR_CODE(Decode(blosc, Header(256, 256, 1000, 48), 256), ErrorCode::kDataLoss);
  // Blocksize 0, or larger than the output.
  EXPECT_ERROR_CODE(Decode(blosc, Header(256, 0, 64, 48), 256), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(blosc, Header(256, 1 << 30, 64, 48), 256), ErrorCode::kDataLoss);
  // Block start offsets (all zero here) pointing into the header.
  EXPECT_ERROR_CODE(Decode(blosc, Header(256, 256, 64, 48), 256), ErrorCode::kDataLoss);
  // Shorter than a header; unknown format version; typesize 0.
  EXPECT_ERROR_CODE(Decode(blosc, Bytes(15), 0), ErrorCode::kDataLoss);
  Bytes future = Header(256, 256, 272, 256);
  future[0] = std::byte{3};
  EXPECT_ERROR_CODE(Decode(blosc, future, 256), ErrorCode::kDataLoss);
  Bytes no_typesize = Header(256, 256, 272, 256);
  no_typesize[3] = std::byte{0};
  EXPECT_ERROR_CODE(Decode(blosc, no_typesize, 256), ErrorCode::kDataLoss);
}

// A memcpyed buffer must hold exactly nbytes after its header.
TEST(BloscCompressorTest, MemcpyedSizesAreChecked) {
  BloscCompressor blosc({});
  Bytes memcpyed = Header(256, 256, 272, 256);
  memcpyed[2] = std::byte{0x33};  // byte shuffle + memcpyed + lz4
  ASSERT_OK(Decode(blosc, memcpyed, 256));
  Bytes short_copy = Header(256, 256, 200, 184);
  short_copy[2] = std::byte{0x33};
  EXPECT_ERROR_CODE(Decode(blosc, short_copy, 256), ErrorCode::kDataLoss);
}

TEST(BloscCompressorTest, EmptyBufferDecodesToNothing) {
  ASSERT_OK_AND_ASSIGN(Bytes encoded, BloscCompressor({}).Encode({}, 4));
  EXPECT_EQ(encoded.size(), std::size_t{BLOSC_MIN_HEADER_LENGTH});
  ASSERT_OK(Decode(BloscCompressor({}), encoded, 0));
  EXPECT_ERROR_CODE(Decode(BloscCompressor({}), encoded, 1), ErrorCode::kDataLoss);
}

// numcodecs reads only the header's cbytes and ignores what follows.
TEST(BloscCompressorTest, BytesAfterTheBufferAreIgnored) {
  BloscCompressor blosc({});
  Bytes input = Tiled(20);
  ASSERT_OK_AND_ASSIGN(Bytes encoded, blosc.Encode(input, 4));
  encoded.push_back(std::byte{0x42});
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(blosc, encoded, input.size()));
  EXPECT_TRUE(decoded == input);
}

// Every shuffle mode decodes whatever this compressor's own settings are: the
// header says how the buffer was written.
TEST(BloscCompressorTest, DecodingIgnoresOwnParameters) {
  Bytes input = testing::CompressibleBytes(10000);
  BloscCompressor reader({.cname = "blosclz", .clevel = 1, .shuffle = 0});
  for (int shuffle = -1; shuffle <= 2; ++shuffle) {
    ASSERT_OK_AND_ASSIGN(Bytes encoded,
                         BloscCompressor({.cname = "zstd", .shuffle = shuffle}).Encode(input, 2));
    ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(reader, encoded, input.size()));
    EXPECT_TRUE(decoded == input) << shuffle;
  }
}

}  // namespace
}  // namespace stowage::codec
