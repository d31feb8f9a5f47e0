#include "array/zarr3_array.h"

#include <gtest/gtest.h>

#include <numeric>

#include "base/bytes.h"
#include "testutil/testutil.h"

namespace stowage::array_io {
namespace {

using json = nlohmann::json;

std::shared_ptr<const Array> Iota(DType dtype, Shape shape, double start = 0) {
  Array f64 = Array::Uninitialized(DType::kFloat64, shape).value();
  auto values = f64.mutable_values<double>();
  std::iota(values.begin(), values.end(), start);
  return std::make_shared<const Array>(f64.AsType(dtype).value());
}

json Little() { return {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}; }

struct Case {
  Shape shape;
  Shape chunks;
};

class Zarr3ArrayRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(Zarr3ArrayRoundTrip, EveryDTypeRoundTripsBitExact) {
  const Case& c = GetParam();
  for (DType dtype : kAllDTypes) {
    std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
    auto array = Iota(dtype, c.shape, 1);
    ASSERT_OK_AND_ASSIGN(Zarr3WriteSpec orbax,
                         OrbaxZarr3WriteSpec(c.shape, c.shape, dtype, 24, {}, true));
    Zarr3WriteSpec plain{c.chunks, json::array({Little(), {{"name", "gzip"}}})};
    Zarr3WriteSpec big{c.chunks,
                       json::array({{{"name", "bytes"}, {"configuration", {{"endian", "big"}}}}})};
    for (const Zarr3WriteSpec& spec : {orbax, plain, big}) {
      ASSERT_OK(WriteZarr3Array(store, "arr", array, spec));
      ASSERT_OK_AND_ASSIGN(Array back, ReadZarr3Array(*store, "arr"));
      EXPECT_TRUE(BitwiseEqual(back.view(), array->view()))
          << DTypeName(dtype) << " " << spec.codecs.dump();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Zarr3ArrayRoundTrip,
                         ::testing::Values(Case{{}, {}}, Case{{7}, {7}}, Case{{7}, {3}},
                                           Case{{5, 6}, {2, 4}}, Case{{0, 3}, {1, 3}},
                                           Case{{3, 1, 4}, {2, 1, 3}},
                                           Case{{2, 3, 2, 3}, {1, 2, 2, 2}}));

// Spec B1/B5: Orbax's int32[8] = 0..7 written with use_zarr3=True (zstd
// frames without a content checksum, TensorStore's default).
TEST(Zarr3ArrayTest, OrbaxSpecWritesWhatOrbaxWrote) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK_AND_ASSIGN(auto spec, OrbaxZarr3WriteSpec(Shape{8}, Shape{8}, DType::kInt32,
                                                      std::nullopt, {}, true, false));
  ASSERT_OK(WriteZarr3Array(store, "a", Iota(DType::kInt32, {8}), spec));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("a/"));
  EXPECT_EQ(keys, (std::vector<std::string>{"a/c/0", "a/zarr.json"}));
  ASSERT_OK_AND_ASSIGN(Bytes metadata, store->Read("a/zarr.json"));
  EXPECT_EQ(
      AsStringView(metadata),
      R"({"chunk_grid":{"configuration":{"chunk_shape":[8]},"name":"regular"},)"
      R"("chunk_key_encoding":{"name":"default"},"codecs":[{"configuration":{"chunk_shape":[8],)"
      R"("codecs":[{"configuration":{"endian":"little"},"name":"bytes"},{"configuration":)"
      R"({"checksum":false,"level":3},"name":"zstd"}],"index_codecs":[{"configuration":)"
      R"({"endian":"little"},"name":"bytes"},{"name":"crc32c"}]},"name":"sharding_indexed"}],)"
      R"("data_type":"int32","fill_value":0,"node_type":"array","shape":[8],"zarr_format":3})");
  ASSERT_OK_AND_ASSIGN(Bytes shard, store->Read("a/c/0"));
  ASSERT_EQ(shard.size(), 61u);
  EXPECT_EQ(shard[57], std::byte{0x8e});
  EXPECT_EQ(shard[60], std::byte{0x44});
}

// Issue 7: by default the zstd frames carry a content checksum, and
// zarr.json says so; a flipped byte of the frame is then data loss.
TEST(Zarr3ArrayTest, OrbaxSpecChecksumsZstdFramesByDefault) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK_AND_ASSIGN(auto spec,
                       OrbaxZarr3WriteSpec(Shape{8}, Shape{8}, DType::kInt32, std::nullopt));
  ASSERT_OK(WriteZarr3Array(store, "a", Iota(DType::kInt32, {8}), spec));
  ASSERT_OK_AND_ASSIGN(Bytes metadata, store->Read("a/zarr.json"));
  EXPECT_NE(AsStringView(metadata).find(R"({"checksum":true,"level":3},"name":"zstd")"),
            std::string::npos)
      << AsStringView(metadata);
  ASSERT_OK_AND_ASSIGN(Bytes shard, store->Read("a/c/0"));
  ASSERT_EQ(shard.size(), 65u);  // the 61 bytes of Orbax's shard + 4 of checksum
  EXPECT_EQ(std::to_integer<int>(shard[4]) & 0x04, 0x04);
}

TEST(Zarr3ArrayTest, OrbaxSpecUsesTheChosenChunkForGridAndShards) {
  ASSERT_OK_AND_ASSIGN(
      auto spec, OrbaxZarr3WriteSpec(Shape{8, 6}, Shape{4, 6}, DType::kFloat32, 48, {}, false));
  EXPECT_EQ(spec.chunks, (Shape{2, 6}));
  EXPECT_EQ(spec.codecs[0]["configuration"]["chunk_shape"], json({2, 6}));
  EXPECT_EQ(spec.codecs[0]["configuration"]["codecs"], json::array({Little()}));
  EXPECT_TRUE(spec.store_data_equal_to_fill_value);
}

TEST(Zarr3ArrayTest, KeysFollowTheChunkKeyEncoding) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  Zarr3WriteSpec spec{{2, 4}, json::array()};
  ASSERT_OK(WriteZarr3Array(store, "p", Iota(DType::kInt16, {3, 6}), spec));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("p/"));
  EXPECT_EQ(keys,
            (std::vector<std::string>{"p/c/0/0", "p/c/0/1", "p/c/1/0", "p/c/1/1", "p/zarr.json"}));
  spec.chunk_key_encoding = {zarr::ChunkKeyEncoding::Kind::kV2, '.'};
  store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarr3Array(store, "p", Iota(DType::kInt16, {3, 6}), spec));
  ASSERT_OK_AND_ASSIGN(keys, store->List("p/"));
  EXPECT_EQ(keys, (std::vector<std::string>{"p/0.0", "p/0.1", "p/1.0", "p/1.1", "p/zarr.json"}));
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarr3Array(*store, "p"));
  EXPECT_TRUE(BitwiseEqual(back.view(), Iota(DType::kInt16, {3, 6})->view()));
}

TEST(Zarr3ArrayTest, EdgeChunksArePaddedWithTheFillValue) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  Zarr3WriteSpec spec{{4}, json::array()};
  spec.fill_value = 9;
  ASSERT_OK(WriteZarr3Array(store, "a", Iota(DType::kUint8, {5}), spec));
  ASSERT_OK_AND_ASSIGN(auto edge, store->Read("a/c/1"));
  EXPECT_EQ(edge, (Bytes{std::byte{4}, std::byte{9}, std::byte{9}, std::byte{9}}));
}

TEST(Zarr3ArrayTest, MissingChunksReadAsFillOnlyWhenAsked) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  Zarr3WriteSpec spec{{2}, json::array({Little(), {{"name", "zstd"}}})};
  spec.fill_value = -3;
  ASSERT_OK(WriteZarr3Array(store, "a", Iota(DType::kInt32, {4}), spec));
  ASSERT_OK(store->Delete("a/c/1"));
  EXPECT_ERROR_CODE(ReadZarr3Array(*store, "a"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarr3Array(*store, "a", {.fill_missing = true}));
  EXPECT_EQ(std::vector<std::int32_t>(back.values<std::int32_t>().begin(),
                                      back.values<std::int32_t>().end()),
            (std::vector<std::int32_t>{0, 1, -3, -3}));
  EXPECT_ERROR_CODE(ReadZarr3Array(*store, "missing"), ErrorCode::kNotFound);
}

TEST(Zarr3ArrayTest, ChunksEqualToFillAreSkippedWhenNotStoringThem) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK_AND_ASSIGN(auto spec,
                       OrbaxZarr3WriteSpec(Shape{4, 4}, Shape{2, 4}, DType::kFloat32, 16));
  spec.store_data_equal_to_fill_value = false;
  ASSERT_OK_AND_ASSIGN(Array zeros, Array::Zeros(DType::kFloat32, {4, 4}));
  zeros.mutable_values<float>()[0] = 1;  // only chunk (0, 0) differs from the fill
  auto array = std::make_shared<const Array>(std::move(zeros));
  ASSERT_OK(store->Write("z/c/1/0", AsBytes(std::string_view("stale"))));
  ASSERT_OK(WriteZarr3Array(store, "z", array, spec));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("z/"));
  EXPECT_EQ(keys, (std::vector<std::string>{"z/c/0/0", "z/zarr.json"}));
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarr3Array(*store, "z", {.fill_missing = true}));
  EXPECT_TRUE(BitwiseEqual(back.view(), array->view()));
}

TEST(Zarr3ArrayTest, CastsOnWriteAndRead) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  Zarr3WriteSpec spec{{3, 2}, json::array()};
  spec.dtype = DType::kBfloat16;
  ASSERT_OK(WriteZarr3Array(store, "a", Iota(DType::kFloat32, {5, 3}), spec));
  ASSERT_OK_AND_ASSIGN(auto m, ReadZarr3Metadata(*store, "a"));
  EXPECT_EQ(m.dtype, DType::kBfloat16);
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarr3Array(*store, "a", {.dtype = DType::kFloat64}));
  EXPECT_TRUE(BitwiseEqual(back.view(), Iota(DType::kFloat64, {5, 3})->view()));
}

TEST(Zarr3ArrayTest, TransposeAndIndexAtStartRoundTrip) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  json sharding = {
      {"name", "sharding_indexed"},
      {"configuration",
       {{"chunk_shape", {2, 1}},
        {"codecs", json::array({{{"name", "bytes"}, {"configuration", {{"endian", "big"}}}}})},
        {"index_location", "start"}}}};
  json transpose = {{"name", "transpose"}, {"configuration", {{"order", {1, 0}}}}};
  Zarr3WriteSpec spec{{3, 4}, json::array({transpose, sharding})};
  auto array = Iota(DType::kUint64, {5, 7});
  ASSERT_OK(WriteZarr3Array(store, "t", array, spec));
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarr3Array(*store, "t"));
  EXPECT_TRUE(BitwiseEqual(back.view(), array->view()));
}

TEST(Zarr3ArrayTest, CorruptChunkIsDataLossNamingTheKey) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK_AND_ASSIGN(auto spec,
                       OrbaxZarr3WriteSpec(Shape{8}, Shape{8}, DType::kInt32, std::nullopt));
  ASSERT_OK(WriteZarr3Array(store, "a", Iota(DType::kInt32, {8}), spec));
  ASSERT_OK_AND_ASSIGN(Bytes shard, store->Read("a/c/0"));
  shard[50] ^= std::byte{1};
  ASSERT_OK(store->Write("a/c/0", shard));
  auto read = ReadZarr3Array(*store, "a");
  EXPECT_ERROR_CODE(read, ErrorCode::kDataLoss);
  EXPECT_NE(read.error().message().find("a/c/0"), std::string::npos) << read.error().message();
}

TEST(Zarr3ArrayTest, BadSpecsAreInvalidArguments) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  auto array = Iota(DType::kInt32, {4, 4});
  EXPECT_ERROR_CODE(WriteZarr3Array(store, "a", array, {{4}, json::array()}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(WriteZarr3Array(store, "a", array, {{0, 4}, json::array()}),
                    ErrorCode::kInvalidArgument);
  Zarr3WriteSpec bad_fill{{4, 4}, json::array()};
  bad_fill.fill_value = "x";
  EXPECT_ERROR_CODE(WriteZarr3Array(store, "a", array, bad_fill), ErrorCode::kInvalidArgument);
  json sharding = {{"name", "sharding_indexed"}, {"configuration", {{"chunk_shape", {3, 4}}}}};
  EXPECT_ERROR_CODE(WriteZarr3Array(store, "a", array, {{4, 4}, json::array({sharding})}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(WriteZarr3Array(store, "a", array, {{4, 4}, json::array({"lzma"})}),
                    ErrorCode::kUnsupported);
}

TEST(Zarr3ArrayTest, HostileMetadataIsRefusedBeforeAllocating) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  std::string text =
      R"({"zarr_format":3,"node_type":"array","shape":[1000000,1000000],"data_type":"float64",)"
      R"("chunk_grid":{"name":"regular","configuration":{"chunk_shape":[1000000,1000000]}},)"
      R"("chunk_key_encoding":{"name":"default"},"fill_value":0,)"
      R"("codecs":[{"name":"bytes","configuration":{"endian":"little"}}]})";
  ASSERT_OK(store->Write("h/zarr.json", AsBytes(text)));
  EXPECT_ERROR_CODE(ReadZarr3Array(*store, "h"), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace stowage::array_io
