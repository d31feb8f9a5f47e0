#include "codec/zstd_compressor.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "codec/test_util.h"
#include "testutil/testutil.h"

namespace stowage::codec {
namespace {

using testing::Arange;
using testing::Decode;
using testing::FromHex;

// A 41-byte frame TensorStore wrote for Orbax: header 28b52ffd, frame header
// descriptor 00 (no content size, no checksum), window descriptor 00, then
// one raw last block of 32 bytes (block header 010100): int32 LE 0..7.
Bytes TensorStoreFrame() {
  Bytes frame = FromHex("28b52ffd0000010100");
  Bytes payload = Arange(8, 4);
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

TEST(ZstdCompressorTest, DecodesFrameWithoutContentSize) {
  Bytes frame = TensorStoreFrame();
  ASSERT_EQ(frame.size(), 41u);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  ZstdCompressor zstd;
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(zstd, frame, 32));
  EXPECT_TRUE(decoded == Arange(8, 4));
}

TEST(ZstdCompressorTest, FrameWithoutContentSizeChecksOutputSize) {
  Bytes frame = TensorStoreFrame();
  ZstdCompressor zstd;
  EXPECT_ERROR_CODE(Decode(zstd, frame, 31), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(zstd, frame, 33), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(zstd, frame, 0), ErrorCode::kDataLoss);
  for (std::size_t n = 0; n < frame.size(); ++n) {
    EXPECT_ERROR_CODE(Decode(zstd, std::span(frame).first(n), 32), ErrorCode::kDataLoss);
  }
  Bytes trailing = frame;
  trailing.push_back(std::byte{0});
  EXPECT_ERROR_CODE(Decode(zstd, trailing, 32), ErrorCode::kDataLoss);
}

TEST(ZstdCompressorTest, DecodesConcatenatedAndSkippableFrames) {
  Bytes frame = TensorStoreFrame();
  // A skippable frame (magic 0x184D2A50, 4-byte length 3, 3 bytes) between.
  Bytes input = frame;
  Bytes skippable = FromHex("502a4d1803000000abcdef");
  input.insert(input.end(), skippable.begin(), skippable.end());
  input.insert(input.end(), frame.begin(), frame.end());
  ZstdCompressor zstd;
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(zstd, input, 64));
  Bytes expected = Arange(8, 4);
  expected.insert(expected.end(), expected.begin(), expected.end());
  EXPECT_TRUE(decoded == expected);
  EXPECT_ERROR_CODE(Decode(zstd, input, 63), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(zstd, input, 65), ErrorCode::kDataLoss);
}

// Made with Debian's python3-numcodecs 0.11.0 (/usr/bin/python3):
//   numcodecs.Zstd(level=1).encode(numpy.arange(16, dtype='<i4')).hex()
constexpr std::string_view kNumcodecsZstd =
    "28b52ffd2040ed00000244068e52111111111111106f675f574f473f372f271f170f07bf0f00";

TEST(ZstdCompressorTest, DecodesNumcodecsFrame) {
  ZstdCompressor zstd;
  ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(zstd, FromHex(kNumcodecsZstd), 64));
  EXPECT_TRUE(decoded == Arange(16, 4));
}

// numcodecs 0.11 sizes its output from the frame header, so every frame we
// write must record the content size.
TEST(ZstdCompressorTest, EncodedFrameRecordsContentSize) {
  for (std::size_t size : {0, 1, 64, 200000}) {
    Bytes input = testing::CompressibleBytes(size);
    ASSERT_OK_AND_ASSIGN(Bytes encoded, ZstdCompressor().Encode(input, 4));
    EXPECT_EQ(ZSTD_getFrameContentSize(encoded.data(), encoded.size()), size);
    EXPECT_EQ(ZSTD_findFrameCompressedSize(encoded.data(), encoded.size()), encoded.size());
  }
}

// The frame header descriptor's bit 2 is the content checksum flag.
TEST(ZstdCompressorTest, ChecksumOptionWritesAndVerifiesChecksum) {
  Bytes input = testing::CompressibleBytes(5000);
  ASSERT_OK_AND_ASSIGN(Bytes plain, ZstdCompressor(1, false).Encode(input, 4));
  ASSERT_OK_AND_ASSIGN(Bytes checked, ZstdCompressor(1, true).Encode(input, 4));
  EXPECT_EQ(std::to_integer<int>(plain[4]) & 0x04, 0);
  EXPECT_EQ(std::to_integer<int>(checked[4]) & 0x04, 0x04);
  ASSERT_OK(Decode(ZstdCompressor(), checked, input.size()));
  checked.back() ^= std::byte{1};  // the last 4 bytes are the checksum
  EXPECT_ERROR_CODE(Decode(ZstdCompressor(), checked, input.size()), ErrorCode::kDataLoss);
}

// Issue 7: a zarr v2 `.zarray` cannot record "checksum" (TensorStore's zarr
// driver and numcodecs 0.11 refuse the member), so frames written from its
// usual form carry one anyway; only an explicit false leaves it out. The
// JSON written back is the form TensorStore accepts.
TEST(ZstdCompressorTest, FromJsonWritesChecksumUnlessToldNotTo) {
  Bytes input = testing::CompressibleBytes(5000);
  auto flag = [&](const char* config) {
    auto zstd = ZstdCompressor::FromJson(nlohmann::json::parse(config)).value();
    Bytes frame = zstd->Encode(input, 4).value();
    return std::to_integer<int>(frame[4]) & 0x04;
  };
  EXPECT_EQ(flag(R"({"id":"zstd","level":1})"), 0x04);
  EXPECT_EQ(flag(R"({"id":"zstd","level":1,"checksum":true})"), 0x04);
  EXPECT_EQ(flag(R"({"id":"zstd","level":1,"checksum":false})"), 0);
  auto zstd = ZstdCompressor::FromJson(nlohmann::json::parse(R"({"id":"zstd"})")).value();
  EXPECT_EQ(zstd->ToJson().dump(), R"({"id":"zstd","level":1})");
}

// A frame claiming 2^40 bytes of content must fail without allocating them.
TEST(ZstdCompressorTest, HugeClaimedContentSizeIsDataLoss) {
  // FHD e0: 8-byte content size, single segment; then 2^40; then the raw
  // 32-byte block of TensorStoreFrame().
  Bytes frame = FromHex("28b52ffde00000000000010000010100");
  Bytes payload = Arange(8, 4);
  frame.insert(frame.end(), payload.begin(), payload.end());
  ZstdCompressor zstd;
  EXPECT_ERROR_CODE(Decode(zstd, frame, 32), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(zstd, frame, 4096), ErrorCode::kDataLoss);
}

// Real chunks of Orbax's aggregate_some.checkpoint (zarr v2, {"id":"zstd",
// "level":1}, written by TensorStore without content size): a = arange(8)
// and b = arange(16) * 2, both int64.
TEST(ZstdCompressorTest, DecodesRealOrbaxChunks) {
  const std::string dir =
      "orbax/google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_some.checkpoint/";
  const std::pair<const char*, Bytes> cases[] = {{"a/0", Arange(8, 8)}, {"b/0", Arange(16, 8, 2)}};
  for (const auto& [name, expected] : cases) {
    auto path = stowage::testing::FixturePath(dir + name);
    if (!path) GTEST_SKIP() << "fixture " << dir << name << " absent";
    std::string chunk = stowage::testing::ReadFileOrDie(*path);
    EXPECT_EQ(ZSTD_getFrameContentSize(chunk.data(), chunk.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(ZstdCompressor(), AsBytes(chunk), expected.size()));
    EXPECT_TRUE(decoded == expected) << name;
  }
}

}  // namespace
}  // namespace stowage::codec

namespace stowage::codec {
namespace {

// Large inputs are compressed with zstd's worker threads; the output must
// still be one frame with its content size that any decoder reads.
TEST(ZstdLargeInputTest, MultithreadedFrameRoundTrips) {
  std::vector<std::byte> input(40u << 20);
  for (std::size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<std::byte>((i * 2654435761u) >> 24 & (i % 7 ? 0xff : 0x0f));
  }
  auto compressor = MakeCompressor({{"id", "zstd"}, {"level", 1}});
  ASSERT_TRUE(compressor.has_value());
  auto encoded = (*compressor)->Encode(input, 1);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(ZSTD_getFrameContentSize(encoded->data(), encoded->size()), input.size());
  EXPECT_EQ(ZSTD_findFrameCompressedSize(encoded->data(), encoded->size()), encoded->size());
  std::vector<std::byte> decoded(input.size());
  ASSERT_TRUE((*compressor)->DecodeInto(*encoded, decoded).has_value());
  EXPECT_EQ(decoded, input);
}

}  // namespace
}  // namespace stowage::codec
