#include "array/zarr_array.h"

#include <gtest/gtest.h>

#include <numeric>

#include "base/bytes.h"
#include "testutil/testutil.h"

namespace stowage::array_io {
namespace {

nlohmann::json Zstd() { return {{"id", "zstd"}, {"level", 1}}; }

std::shared_ptr<const Array> Iota(DType dtype, Shape shape) {
  Array f64 = Array::Uninitialized(DType::kFloat64, shape).value();
  auto values = f64.mutable_values<double>();
  std::iota(values.begin(), values.end(), 0.0);
  return std::make_shared<const Array>(f64.AsType(dtype).value());
}

struct Case {
  Shape shape;
  Shape chunks;
};

class ZarrArrayRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ZarrArrayRoundTrip, EveryDTypeRoundTripsBitExact) {
  for (DType dtype : kAllDTypes) {
    std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
    auto array = Iota(dtype, GetParam().shape);
    for (nlohmann::json compressor : {nlohmann::json(nullptr), Zstd()}) {
      ASSERT_OK(WriteZarrArray(store, "arr", array, {GetParam().chunks, compressor}));
      ASSERT_OK_AND_ASSIGN(Array back, ReadZarrArray(*store, "arr"));
      EXPECT_TRUE(BitwiseEqual(back.view(), array->view())) << DTypeName(dtype);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, ZarrArrayRoundTrip,
                         ::testing::Values(Case{{}, {}}, Case{{7}, {7}}, Case{{7}, {3}},
                                           Case{{5, 6}, {2, 4}}, Case{{0, 3}, {1, 3}},
                                           Case{{3, 1, 4}, {2, 1, 3}},
                                           Case{{2, 3, 2, 3}, {1, 2, 2, 2}},
                                           Case{{2, 2, 3, 1, 2}, {2, 1, 2, 1, 1}}));

TEST(ZarrArrayTest, WritesEveryChunkWithTensorStoreKeys) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "p.q", Iota(DType::kInt32, {5, 6}), {{2, 4}, Zstd()}));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("p.q/"));
  EXPECT_EQ(keys, (std::vector<std::string>{"p.q/.zarray", "p.q/0.0", "p.q/0.1", "p.q/1.0",
                                            "p.q/1.1", "p.q/2.0", "p.q/2.1"}));
}

TEST(ZarrArrayTest, EdgeChunksArePaddedToFullSize) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "a", Iota(DType::kUint8, {5}), {{4}, nullptr}));
  ASSERT_OK_AND_ASSIGN(auto edge, store->Read("a/1"));
  EXPECT_EQ(edge, (Bytes{std::byte{4}, std::byte{0}, std::byte{0}, std::byte{0}}));
}

TEST(ZarrArrayTest, CastsOnWriteAndOnRead) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  auto array = Iota(DType::kFloat32, {6});
  ASSERT_OK(WriteZarrArray(store, "a", array, {{4}, Zstd(), DType::kBfloat16}));
  ASSERT_OK_AND_ASSIGN(auto metadata, ReadZarrayMetadata(*store, "a"));
  EXPECT_EQ(metadata.dtype.dtype, DType::kBfloat16);
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarrArray(*store, "a", {.dtype = DType::kInt64}));
  ASSERT_EQ(back.dtype(), DType::kInt64);
  auto values = back.values<std::int64_t>();
  EXPECT_EQ(std::vector<std::int64_t>(values.begin(), values.end()),
            (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(ZarrArrayTest, MissingChunkIsNotFoundUnlessFillAllowed) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "a", Iota(DType::kInt16, {4}), {{2}, nullptr}));
  ASSERT_OK(store->Delete("a/1"));
  auto missing = ReadZarrArray(*store, "a");
  EXPECT_ERROR_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("a/1"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(Array filled, ReadZarrArray(*store, "a", {.fill_missing = true}));
  auto values = filled.values<std::int16_t>();
  EXPECT_EQ(std::vector<std::int16_t>(values.begin(), values.end()),
            (std::vector<std::int16_t>{0, 1, 0, 0}));
}

TEST(ZarrArrayTest, MissingChunksTakeTheFillValue) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(store->Write("a/.zarray", AsBytes(R"({"chunks":[2],"compressor":null,)"
                                              R"("dtype":"<f4","fill_value":"NaN","filters":null,)"
                                              R"("order":"C","shape":[3],"zarr_format":2})")));
  ASSERT_OK_AND_ASSIGN(Array filled, ReadZarrArray(*store, "a", {.fill_missing = true}));
  for (float v : filled.values<float>()) EXPECT_TRUE(std::isnan(v));
}

TEST(ZarrArrayTest, ReadsFortranOrderAndBigEndianChunks) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  // A 2x3 '>u2' F-order array [[0,1,2],[3,4,5]]: F order stores 0,3,1,4,2,5.
  ASSERT_OK(store->Write("a/.zarray", AsBytes(R"({"chunks":[2,3],"compressor":null,)"
                                              R"("dtype":">u2","fill_value":0,"filters":null,)"
                                              R"("order":"F","shape":[2,3],"zarr_format":2})")));
  Bytes chunk;
  for (int v : {0, 3, 1, 4, 2, 5}) {
    chunk.push_back(std::byte{0});
    chunk.push_back(std::byte(v));
  }
  ASSERT_OK(store->Write("a/0.0", chunk));
  ASSERT_OK_AND_ASSIGN(Array back, ReadZarrArray(*store, "a"));
  auto values = back.values<std::uint16_t>();
  EXPECT_EQ(std::vector<std::uint16_t>(values.begin(), values.end()),
            (std::vector<std::uint16_t>{0, 1, 2, 3, 4, 5}));
}

TEST(ZarrArrayTest, CorruptOrWrongSizedChunksAreDataLossNamingTheKey) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "a", Iota(DType::kFloat64, {8}), {{8}, Zstd()}));
  ASSERT_OK_AND_ASSIGN(Bytes good, store->Read("a/0"));
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, good.size() - 1}) {
    ASSERT_OK(store->Write("a/0", std::span(good).first(cut)));
    auto result = ReadZarrArray(*store, "a");
    EXPECT_ERROR_CODE(result, ErrorCode::kDataLoss);
    EXPECT_NE(result.error().message().find("a/0"), std::string::npos);
  }
  ASSERT_OK(WriteZarrArray(store, "raw", Iota(DType::kFloat64, {8}), {{8}, nullptr}));
  ASSERT_OK(store->Write("raw/0", Bytes(63)));
  EXPECT_ERROR_CODE(ReadZarrArray(*store, "raw"), ErrorCode::kDataLoss);
}

TEST(ZarrArrayTest, RefusesArraysBeyondTheLimit) {
  std::shared_ptr<kvstore::Store> store = kvstore::NewMemoryStore();
  ASSERT_OK(WriteZarrArray(store, "a", Iota(DType::kFloat64, {64}), {{8}, nullptr}));
  ZarrReadOptions options;
  options.io.limits.max_bytes = 256;
  EXPECT_ERROR_CODE(ReadZarrArray(*store, "a", options), ErrorCode::kResourceExhausted);
}

TEST(ZarrArrayTest, FailedWriteSurfacesThroughTheFuture) {
  testing::TempDir dir;
  // A file where the array directory must go.
  ASSERT_OK(kvstore::OpenFileStore(dir.path())->Write("blocked", AsBytes("x")));
  std::shared_ptr<kvstore::Store> store = kvstore::OpenFileStore(dir.path());
  Future<void> written =
      WriteZarrArrayAsync(store, "blocked", Iota(DType::kInt8, {4}), {{2}, nullptr});
  const Status& status = written.Wait();
  ASSERT_FALSE(status.has_value());
  EXPECT_NE(status.error().message().find("blocked"), std::string::npos);
}

}  // namespace
}  // namespace stowage::array_io
