#include "zarr/zarray.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "testutil/testutil.h"
#include "zarr/chunk_key.h"
#include "zarr/dtype_names.h"
#include "zarr/fill_value.h"

namespace stowage::zarr {
namespace {

// The exact `.zarray` TensorStore wrote for Orbax (int32[8], zstd): found in
// shared/fixtures/orbax/google__orbax/.../aggregate_some.checkpoint/a/.zarray
// (int64) and, decoded from OCDBT, in orbax-compat (int32); see
// shared/specs/README.md. Sorted keys, compact, every field present
// (tensorstore/driver/zarr/metadata.cc).
constexpr char kOrbaxInt32Zarray[] =
    R"({"chunks":[8],"compressor":{"id":"zstd","level":1},"dimension_separator":".",)"
    R"("dtype":"<i4","fill_value":null,"filters":null,"order":"C","shape":[8],"zarr_format":2})";

TEST(ZarrayTest, EncodesWhatTensorStoreWritesForOrbax) {
  ZarrayMetadata m;
  m.shape = {8};
  m.chunks = {8};
  m.dtype = {DType::kInt32, false};
  m.compressor = {{"id", "zstd"}, {"level", 1}};
  EXPECT_EQ(EncodeZarray(m), kOrbaxInt32Zarray);
}

TEST(ZarrayTest, MatchesTheFixtureWrittenByOrbaxByteForByte) {
  auto path = testing::FixturePath(
      "orbax/google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_some.checkpoint/a/"
      ".zarray");
  if (!path) GTEST_SKIP() << "fixture absent";
  std::string text = testing::ReadFileOrDie(*path);
  ASSERT_OK_AND_ASSIGN(auto m, ParseZarray(AsBytes(text), path->string()));
  EXPECT_EQ(m.shape, Shape{8});
  EXPECT_EQ(m.dtype.dtype, DType::kInt64);
  EXPECT_EQ(EncodeZarray(m), text);
}

TEST(ZarrayTest, ScalarHasEmptyShapeAndChunkKeyZero) {
  ZarrayMetadata m;
  m.dtype = {DType::kInt64, false};
  m.compressor = {{"id", "zstd"}, {"level", 1}};
  EXPECT_EQ(
      EncodeZarray(m),
      R"({"chunks":[],"compressor":{"id":"zstd","level":1},"dimension_separator":".",)"
      R"("dtype":"<i8","fill_value":null,"filters":null,"order":"C","shape":[],"zarr_format":2})");
  EXPECT_EQ(ChunkKey({}, '.'), "0");
  std::vector<std::int64_t> index = {3, 0, 12};
  EXPECT_EQ(ChunkKey(index, '.'), "3.0.12");
  EXPECT_EQ(ChunkKey(index, '/'), "3/0/12");
}

TEST(ZarrayTest, AcceptsWhatZarrPythonWrites) {
  // zarr-python 2.13: filters null, fill_value NaN, F order, '/' separator.
  std::string text =
      R"({"chunks":[2,3],"compressor":{"blocksize":0,"clevel":5,"cname":"lz4","id":"blosc",)"
      R"("shuffle":1},"dimension_separator":"/","dtype":">f8","fill_value":"NaN","filters":null,)"
      R"("order":"F","shape":[5,7],"zarr_format":2})";
  ASSERT_OK_AND_ASSIGN(auto m, ParseZarray(AsBytes(text), "x/.zarray"));
  EXPECT_EQ(m.order, 'F');
  EXPECT_EQ(m.dimension_separator, '/');
  EXPECT_TRUE(m.dtype.big_endian);
  EXPECT_EQ(m.grid_shape(), (Shape{3, 3}));
}

TEST(ZarrayTest, MissingSeparatorDefaultsToDot) {
  std::string text = R"({"chunks":[2],"compressor":null,"dtype":"|u1","fill_value":0,"filters":[],)"
                     R"("order":"C","shape":[5],"zarr_format":2})";
  ASSERT_OK_AND_ASSIGN(auto m, ParseZarray(AsBytes(text), "x/.zarray"));
  EXPECT_EQ(m.dimension_separator, '.');
  EXPECT_TRUE(m.compressor.is_null());
}

struct BadZarray {
  const char* text;
  ErrorCode code;
};

TEST(ZarrayTest, RejectsHostileOrBrokenMetadataBeforeAllocating) {
  const BadZarray cases[] = {
      {"", ErrorCode::kDataLoss},
      {"{", ErrorCode::kDataLoss},
      {"[]", ErrorCode::kDataLoss},
      {R"({"zarr_format":3})", ErrorCode::kUnsupported},
      {R"({"zarr_format":2,"shape":[4],"dtype":"<f4"})", ErrorCode::kDataLoss},
      {R"({"zarr_format":2,"shape":[4],"chunks":[4,4],"dtype":"<f4"})", ErrorCode::kDataLoss},
      {R"({"zarr_format":2,"shape":[-4],"chunks":[4],"dtype":"<f4"})", ErrorCode::kDataLoss},
      {R"({"zarr_format":2,"shape":[4],"chunks":[0],"dtype":"<f4"})", ErrorCode::kDataLoss},
      {R"({"zarr_format":2,"shape":["4"],"chunks":[4],"dtype":"<f4"})", ErrorCode::kDataLoss},
      {R"({"zarr_format":2,"shape":[4],"chunks":[4],"dtype":"<U8"})", ErrorCode::kUnsupported},
      {R"({"zarr_format":2,"shape":[4],"chunks":[4],"dtype":[["a","<f4"]]})",
       ErrorCode::kUnsupported},
      {R"({"zarr_format":2,"shape":[4],"chunks":[4],"dtype":"<f4","filters":[{"id":"delta"}]})",
       ErrorCode::kUnsupported},
      {R"({"zarr_format":2,"shape":[4],"chunks":[4],"dtype":"<f4","order":"X"})",
       ErrorCode::kDataLoss},
      // 2^62 elements: refused, not allocated.
      {R"({"zarr_format":2,"shape":[4611686018427387904],"chunks":[1],"dtype":"|u1"})",
       ErrorCode::kResourceExhausted},
      // Overflowing element count.
      {R"({"zarr_format":2,"shape":[4294967296,4294967296],"chunks":[1,1],"dtype":"<f8"})",
       ErrorCode::kResourceExhausted},
      // A tiny array with an enormous chunk.
      {R"({"zarr_format":2,"shape":[3],"chunks":[4611686018427387904],"dtype":"|u1"})",
       ErrorCode::kResourceExhausted},
      // Too many chunks.
      {R"({"zarr_format":2,"shape":[1000000000],"chunks":[1],"dtype":"|u1"})",
       ErrorCode::kResourceExhausted},
  };
  Limits limits{.max_bytes = std::uint64_t{1} << 34};
  for (const auto& c : cases) {
    auto parsed = ParseZarray(AsBytes(c.text), "/ckpt/x/.zarray", limits);
    EXPECT_ERROR_CODE(parsed, c.code);
    if (!parsed.has_value()) {
      EXPECT_NE(parsed.error().message().find("/ckpt/x/.zarray"), std::string::npos)
          << parsed.error().message();
    }
  }
}

TEST(DTypeNamesTest, RoundTripsEveryDType) {
  for (DType dtype : kAllDTypes) {
    ASSERT_OK_AND_ASSIGN(auto parsed, ParseZarrDType(ZarrDTypeString(dtype)));
    EXPECT_EQ(parsed.dtype, dtype) << ZarrDTypeString(dtype);
  }
  // tensorstore/driver/zarr/dtype.cc ChooseBaseDType.
  EXPECT_EQ(ZarrDTypeString(DType::kBool), "|b1");
  EXPECT_EQ(ZarrDTypeString(DType::kUint8), "|u1");
  EXPECT_EQ(ZarrDTypeString(DType::kFloat32), "<f4");
  EXPECT_EQ(ZarrDTypeString(DType::kComplex128), "<c16");
  EXPECT_EQ(ZarrDTypeString(DType::kBfloat16), "bfloat16");
  EXPECT_EQ(ZarrDTypeString(DType::kFloat8E4m3fn), "float8_e4m3fn");
  EXPECT_EQ(ZarrDTypeString(DType::kFloat8E5m2), "float8_e5m2");
  EXPECT_ERROR_CODE(ParseZarrDType("|f4"), ErrorCode::kUnsupported);
  EXPECT_ERROR_CODE(ParseZarrDType("<f3"), ErrorCode::kUnsupported);
  EXPECT_ERROR_CODE(ParseZarrDType("<M8[ns]"), ErrorCode::kUnsupported);
}

TEST(FillValueTest, DecodesJsonFillValues) {
  ASSERT_OK_AND_ASSIGN(auto nan, FillValueBytes("NaN", DType::kFloat32, "p"));
  float f;
  std::memcpy(&f, nan.data(), 4);
  EXPECT_TRUE(std::isnan(f));
  ASSERT_OK_AND_ASSIGN(auto inf, FillValueBytes("-Infinity", DType::kFloat64, "p"));
  double d;
  std::memcpy(&d, inf.data(), 8);
  EXPECT_EQ(d, -INFINITY);
  ASSERT_OK_AND_ASSIGN(auto seven, FillValueBytes(7, DType::kInt16, "p"));
  EXPECT_EQ(seven, (Bytes{std::byte{7}, std::byte{0}}));
  ASSERT_OK_AND_ASSIGN(auto zeros, FillValueBytes(nullptr, DType::kComplex64, "p"));
  EXPECT_EQ(zeros, Bytes(8, std::byte{0}));
  ASSERT_OK_AND_ASSIGN(auto t, FillValueBytes(true, DType::kBool, "p"));
  EXPECT_EQ(t, Bytes{std::byte{1}});
  EXPECT_ERROR_CODE(FillValueBytes(-1, DType::kUint8, "p"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(FillValueBytes("x", DType::kFloat32, "p"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(FillValueBytes(1.5, DType::kInt32, "p"), ErrorCode::kDataLoss);
}

// Issue 7 (fuzzing): a `.zarray` nested 200000 levels deep overflowed the
// stack when the parsed fill value was copied.
TEST(ZarrayTest, DeeplyNestedJsonIsDataLossNotAStackOverflow) {
  std::string text = R"({"zarr_format":2,"shape":[1],"chunks":[1],"dtype":"<f4","fill_value":)" +
                     std::string(200000, '[') + std::string(200000, ']') + "}";
  auto parsed = ParseZarray(AsBytes(text), "a/.zarray");
  EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
  EXPECT_NE(parsed.error().message().find("a/.zarray"), std::string::npos);
  EXPECT_NE(parsed.error().message().find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace stowage::zarr
