#include "zarr/zarr3_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "codec/crc32c.h"
#include "testutil/testutil.h"
#include "zarr/zarr3_sharding.h"

namespace stowage::zarr {
namespace {

using json = nlohmann::json;

Zarr3CodecChain Chain(const json& codecs, DType dtype, std::size_t rank) {
  auto chain = ParseCodecChain(codecs, dtype, rank, {.where = "test"});
  if (!chain.has_value()) {
    ADD_FAILURE() << chain.error().ToString();
    return {};
  }
  return *chain;
}

// A JSON list (nlohmann reads `{x}` for a single json x as x itself).
template <typename... T>
json List(T... items) {
  return json::array({json(items)...});
}

json Bytes(const char* endian = "little") {
  return {{"name", "bytes"}, {"configuration", {{"endian", endian}}}};
}

json Sharding(json chunk_shape, json inner, bool start = false) {
  json config = {{"chunk_shape", chunk_shape},
                 {"codecs", inner},
                 {"index_codecs", {Bytes(), {{"name", "crc32c"}}}}};
  if (start) config["index_location"] = "start";
  return {{"name", "sharding_indexed"}, {"configuration", config}};
}

stowage::Bytes ToBytes(std::initializer_list<int> values) {
  stowage::Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

void AppendU64(stowage::Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

stowage::Bytes WithCrc32c(stowage::Bytes data) {
  std::uint32_t crc = codec::Crc32c(data);
  for (int i = 0; i < 4; ++i) data.push_back(static_cast<std::byte>(crc >> (8 * i)));
  return data;
}

template <typename T>
stowage::Bytes Iota(std::size_t n, T start = 0) {
  std::vector<T> values(n);
  std::iota(values.begin(), values.end(), start);
  auto bytes = std::as_bytes(std::span(values));
  return stowage::Bytes(bytes.begin(), bytes.end());
}

// Spec B5: the shard Orbax wrote for int32[8] = 0..7 (fixture key `a/c/0`):
// one zstd frame (level 3, content size, no checksum) of 41 bytes, then the
// index {offset 0, length 41} and its CRC-32C 8e 86 77 44.
TEST(Zarr3ShardTest, OrbaxWorkedExampleIsReproducedByteForByte) {
  json codecs = List(Sharding(
      {8}, {Bytes(), {{"name", "zstd"}, {"configuration", {{"level", 3}, {"checksum", false}}}}}));
  Zarr3CodecChain chain = Chain(codecs, DType::kInt32, 1);
  std::int32_t zero = 0;
  Zarr3ChunkSpec spec{DType::kInt32, {8}, std::as_bytes(std::span(&zero, 1))};
  stowage::Bytes values = Iota<std::int32_t>(8);
  ASSERT_OK_AND_ASSIGN(auto shard, EncodeZarr3Chunk(chain, spec, values, true));
  ASSERT_TRUE(shard.has_value());
  ASSERT_EQ(shard->size(), 61u);
  // Frame header: magic, FHD 0x20 (single segment, 1-byte content size), 32.
  EXPECT_EQ(stowage::Bytes(shard->begin(), shard->begin() + 6),
            ToBytes({0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x20}));
  EXPECT_EQ(stowage::Bytes(shard->begin() + 41, shard->end()),
            ToBytes({0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0, 0, 0, 0x8e, 0x86, 0x77, 0x44}));
  stowage::Bytes back(32);
  ASSERT_OK(DecodeZarr3Chunk(chain, spec, *shard, back, "a/c/0"));
  EXPECT_EQ(back, values);
}

class HandBuiltShard : public ::testing::Test {
 protected:
  // uint8 shard of 2 inner chunks of 5 bytes, inner codec `bytes`.
  Zarr3CodecChain chain_ = Chain(List(Sharding({5}, List(Bytes()))), DType::kUint8, 1);
  std::uint8_t fill_ = 42;
  Zarr3ChunkSpec spec_{DType::kUint8, {10}, std::as_bytes(std::span(&fill_, 1))};

  Status Decode(const stowage::Bytes& shard, stowage::Bytes& out) {
    out.assign(10, std::byte{0});
    return DecodeZarr3Chunk(chain_, spec_, shard, out, "shard_path");
  }
};

stowage::Bytes Index(std::vector<std::pair<std::uint64_t, std::uint64_t>> entries) {
  stowage::Bytes out;
  for (auto [offset, length] : entries) {
    AppendU64(out, offset);
    AppendU64(out, length);
  }
  return out;
}

constexpr std::uint64_t kMissing = ~std::uint64_t{0};

// zarr3_sharding_indexed_test.cc RawEncodingTest.ShardIndexByteRangeOverflow.
TEST_F(HandBuiltShard, IndexEntryOverflowIsDataLoss) {
  auto shard = WithCrc32c(Index({{kMissing, kMissing}, {0x7fffffffffffffff, 0x7fffffffffffffff}}));
  stowage::Bytes out;
  EXPECT_ERROR_CODE(Decode(shard, out), ErrorCode::kDataLoss);
}

// RawEncodingTest.ShardIndexEntryByteRangeOutOfRange.
TEST_F(HandBuiltShard, IndexEntryBeyondShardIsDataLoss) {
  auto shard = WithCrc32c(Index({{kMissing, kMissing}, {0, 37}}));
  stowage::Bytes out;
  EXPECT_ERROR_CODE(Decode(shard, out), ErrorCode::kDataLoss);
}

// RawEncodingTest.ShardIndexInvalidChecksum.
TEST_F(HandBuiltShard, IndexChecksumMismatchIsDataLoss) {
  auto shard = Index({{kMissing, kMissing}, {0, 5}});
  for (char c : std::string("abcd")) shard.push_back(static_cast<std::byte>(c));
  stowage::Bytes out;
  EXPECT_ERROR_CODE(Decode(shard, out), ErrorCode::kDataLoss);
}

// RawEncodingTest.ShardIndexTooShort.
TEST_F(HandBuiltShard, ShardShorterThanItsIndexIsDataLoss) {
  stowage::Bytes out;
  EXPECT_ERROR_CODE(Decode(ToBytes({1, 2, 3}), out), ErrorCode::kDataLoss);
}

TEST_F(HandBuiltShard, WrongInnerChunkLengthIsDataLoss) {
  stowage::Bytes shard = ToBytes({1, 2, 3, 4});
  auto index = WithCrc32c(Index({{0, 4}, {kMissing, kMissing}}));
  shard.insert(shard.end(), index.begin(), index.end());
  stowage::Bytes out;
  EXPECT_ERROR_CODE(Decode(shard, out), ErrorCode::kDataLoss);
}

// Another writer's layout: chunks in reverse order with a gap, one absent
// entry (read as the fill value). Like UnderlyingKeyValueStoreTest.Read,
// whose entry 2 is offset 10, length 5.
TEST(Zarr3ShardTest, ReadsAnyLayoutByOffsets) {
  Zarr3CodecChain chain = Chain(List(Sharding({5}, List(Bytes()))), DType::kUint8, 1);
  std::uint8_t fill = 0xee;
  Zarr3ChunkSpec spec{DType::kUint8, {25}, std::as_bytes(std::span(&fill, 1))};
  stowage::Bytes shard = ToBytes({0, 1, 2, 3, 4, 9, 9, 9, 9, 9, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24});
  auto index =
      WithCrc32c(Index({{kMissing, kMissing}, {15, 5}, {10, 5}, {0, 5}, {kMissing, kMissing}}));
  shard.insert(shard.end(), index.begin(), index.end());
  stowage::Bytes out(25);
  ASSERT_OK(DecodeZarr3Chunk(chain, spec, shard, out, "shard_path"));
  stowage::Bytes expected(5, std::byte{0xee});
  for (auto part :
       {ToBytes({20, 21, 22, 23, 24}), ToBytes({5, 6, 7, 8, 9}), ToBytes({0, 1, 2, 3, 4})}) {
    expected.insert(expected.end(), part.begin(), part.end());
  }
  expected.insert(expected.end(), 5, std::byte{0xee});
  EXPECT_EQ(out, expected);
}

TEST(Zarr3ShardTest, FillChunksAreNotStoredAndAnEmptyShardIsNoValue) {
  Zarr3CodecChain chain =
      Chain(List(Sharding({2, 2}, List(Bytes()), /*start=*/true)), DType::kInt16, 2);
  std::int16_t fill = 7;
  Zarr3ChunkSpec spec{DType::kInt16, {4, 4}, std::as_bytes(std::span(&fill, 1))};
  std::vector<std::int16_t> values(16, 7);
  auto bytes = std::as_bytes(std::span(values));
  ASSERT_OK_AND_ASSIGN(auto none, EncodeZarr3Chunk(chain, spec, bytes, false));
  EXPECT_FALSE(none.has_value());
  ASSERT_OK_AND_ASSIGN(auto all, EncodeZarr3Chunk(chain, spec, bytes, true));
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 4 * 16 + 4 + 4 * 8u);
  values[1 * 4 + 3] = -1;  // inner chunk (0, 1)
  ASSERT_OK_AND_ASSIGN(auto one,
                       EncodeZarr3Chunk(chain, spec, std::as_bytes(std::span(values)), false));
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 4 * 16 + 4 + 8u);
  // Index at the start: entry 1 = (68, 8), the others absent.
  std::uint64_t entry[2];
  std::memcpy(entry, one->data() + 16, 16);
  EXPECT_EQ(entry[0], 68u);
  EXPECT_EQ(entry[1], 8u);
  std::memcpy(entry, one->data(), 16);
  EXPECT_EQ(entry[0], kMissing);
  stowage::Bytes back(32);
  ASSERT_OK(DecodeZarr3Chunk(chain, spec, *one, back, "s"));
  EXPECT_EQ(std::memcmp(back.data(), values.data(), 32), 0);
}

struct RoundTripCase {
  const char* name;
  json codecs;
  DType dtype;
  Shape shape;
};

class Zarr3CodecRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(Zarr3CodecRoundTrip, DecodesWhatItEncodes) {
  const RoundTripCase& c = GetParam();
  Zarr3CodecChain chain = Chain(c.codecs, c.dtype, c.shape.size());
  stowage::Bytes fill(ItemSize(c.dtype), std::byte{0});
  Zarr3ChunkSpec spec{c.dtype, c.shape, fill};
  std::size_t n = static_cast<std::size_t>(NumElements(c.shape).value());
  stowage::Bytes data(n * ItemSize(c.dtype));
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + 1);
  ASSERT_OK_AND_ASSIGN(auto stored, EncodeZarr3Chunk(chain, spec, data, false));
  ASSERT_TRUE(stored.has_value());
  stowage::Bytes back(data.size());
  ASSERT_OK(DecodeZarr3Chunk(chain, spec, *stored, back, "chunk"));
  EXPECT_EQ(back, data);
  EXPECT_LE(stored->size(), MaxStoredZarr3ChunkBytes(chain, spec));
  if (stored->size() > 1) {  // a truncated chunk never decodes silently
    stowage::Bytes cut(stored->begin(), stored->end() - 1);
    EXPECT_FALSE(DecodeZarr3Chunk(chain, spec, cut, back, "chunk").has_value());
  }
}

json Transpose(json order) {
  return {{"name", "transpose"}, {"configuration", {{"order", order}}}};
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, Zarr3CodecRoundTrip,
    ::testing::Values(
        RoundTripCase{"little", List(Bytes()), DType::kInt32, {3, 4}},
        RoundTripCase{"big", List(Bytes("big")), DType::kComplex64, {5}},
        RoundTripCase{"rank0", {Bytes(), {{"name", "crc32c"}}}, DType::kFloat64, {}},
        RoundTripCase{"transpose", {Transpose({2, 0, 1}), Bytes("big")}, DType::kUint16, {2, 3, 4}},
        RoundTripCase{
            "two_transposes", {Transpose({1, 0}), Transpose("F"), Bytes()}, DType::kInt8, {3, 5}},
        RoundTripCase{
            "zstd_checksum",
            {Bytes(), {{"name", "zstd"}, {"configuration", {{"level", 1}, {"checksum", true}}}}},
            DType::kFloat32,
            {64}},
        RoundTripCase{
            "gzip_crc",
            {Bytes(), {{"name", "gzip"}, {"configuration", {{"level", 6}}}}, {{"name", "crc32c"}}},
            DType::kInt64,
            {4, 4}},
        RoundTripCase{"crc_then_blosc",
                      {Bytes(),
                       {{"name", "crc32c"}},
                       {{"name", "blosc"},
                        {"configuration",
                         {{"cname", "zstd"},
                          {"clevel", 3},
                          {"shuffle", "bitshuffle"},
                          {"typesize", 2},
                          {"blocksize", 0}}}}},
                      DType::kBfloat16,
                      {7, 3}},
        RoundTripCase{
            "sharded_end",
            List(Sharding({2, 2},
                          {Bytes(), {{"name", "zstd"}, {"configuration", {{"level", 3}}}}})),
            DType::kUint32,
            {4, 6}},
        RoundTripCase{
            "sharded_start_transposed",
            List(Transpose({1, 0}), Sharding({3, 1}, {Transpose({1, 0}), Bytes("big")}, true)),
            DType::kInt16,
            {2, 3}},
        RoundTripCase{
            "nested_sharding",
            List(Sharding({4, 2}, List(Sharding({2, 1}, {Bytes(), {{"name", "crc32c"}}})))),
            DType::kFloat16,
            {8, 4}},
        RoundTripCase{
            "sharded_rank0", List(Sharding(json::array(), List(Bytes()))), DType::kBool, {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Zarr3CodecTest, Crc32cMismatchIsDataLoss) {
  Zarr3CodecChain chain = Chain({Bytes(), {{"name", "crc32c"}}}, DType::kUint8, 1);
  std::uint8_t fill = 0;
  Zarr3ChunkSpec spec{DType::kUint8, {4}, std::as_bytes(std::span(&fill, 1))};
  auto stored = WithCrc32c(ToBytes({1, 2, 3, 4}));
  stored[0] = std::byte{9};
  stowage::Bytes out(4);
  EXPECT_ERROR_CODE(DecodeZarr3Chunk(chain, spec, stored, out, "k"), ErrorCode::kDataLoss);
}

TEST(Zarr3CodecTest, SpecDefaultsResolveAsTensorStore) {
  // TensorStore's DriverCreateWithSchemaTest-style resolution: bare names,
  // a missing `bytes` codec, blosc typesize from the element size.
  auto chain = ParseCodecChain(json::parse(R"(["zstd", {"name":"blosc"}])"), DType::kFloat32, 1,
                               {.stored = false, .where = "spec"});
  ASSERT_OK(chain);
  EXPECT_EQ(CodecChainToJson(*chain),
            json::parse(R"([{"name":"bytes","configuration":{"endian":"little"}},
              {"name":"zstd","configuration":{"level":3,"checksum":false}},
              {"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"noshuffle",
               "blocksize":0}}])"));
  auto blosc = ParseCodecChain(json::parse(R"([{"name":"blosc"}])"), DType::kUint8, 1,
                               {.stored = false, .where = "spec"});
  ASSERT_OK(blosc);
  EXPECT_EQ(CodecChainToJson(*blosc)[1]["configuration"]["shuffle"], "bitshuffle");
  EXPECT_EQ(CodecChainToJson(*blosc)[1]["configuration"]["typesize"], 1);
  auto gzip = ParseCodecChain(json::parse(R"([{"name":"gzip"}])"), DType::kInt64, 1,
                              {.stored = false, .where = "spec"});
  ASSERT_OK(gzip);
  EXPECT_EQ(CodecChainToJson(*gzip)[1]["configuration"]["level"], 6);
}

}  // namespace
}  // namespace stowage::zarr
