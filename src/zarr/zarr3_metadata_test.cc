#include "zarr/zarr3_metadata.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "base/bytes.h"
#include "testutil/testutil.h"
#include "zarr/zarr3_chunk_key.h"
#include "zarr/zarr3_fill_value.h"

namespace stowage::zarr {
namespace {

using json = nlohmann::json;

// Written by Orbax through TensorStore (spec B1; fixture key `a/zarr.json`
// under shared/fixtures/orbax-compat/v1_checkpoints).
constexpr std::string_view kOrbaxZarrJson =
    R"({"chunk_grid":{"configuration":{"chunk_shape":[8]},"name":"regular"},)"
    R"("chunk_key_encoding":{"name":"default"},"codecs":[{"configuration":{"chunk_shape":[8],)"
    R"("codecs":[{"configuration":{"endian":"little"},"name":"bytes"},{"configuration":)"
    R"({"checksum":false,"level":3},"name":"zstd"}],"index_codecs":[{"configuration":)"
    R"({"endian":"little"},"name":"bytes"},{"name":"crc32c"}]},"name":"sharding_indexed"}],)"
    R"("data_type":"int32","fill_value":0,"node_type":"array","shape":[8],"zarr_format":3})";

Result<Zarr3Metadata> Parse(const json& doc, const Limits& limits = {}) {
  return ParseZarrJson(AsBytes(doc.dump()), "zarr.json", limits);
}

json Basic() {
  return json::parse(R"({"zarr_format":3,"node_type":"array","shape":[10,11],
    "data_type":"uint16","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[3,4]}},
    "chunk_key_encoding":{"name":"default"},"fill_value":0,
    "codecs":[{"name":"bytes","configuration":{"endian":"little"}}]})");
}

TEST(Zarr3MetadataTest, OrbaxFixtureRoundTripsByteForByte) {
  ASSERT_OK_AND_ASSIGN(auto m, ParseZarrJson(AsBytes(kOrbaxZarrJson), "a/zarr.json"));
  EXPECT_EQ(m.shape, Shape{8});
  EXPECT_EQ(m.chunk_shape, Shape{8});
  EXPECT_EQ(m.dtype, DType::kInt32);
  ASSERT_TRUE(m.codecs.sharding);
  EXPECT_EQ(m.codecs.sharding->chunk_shape, Shape{8});
  EXPECT_FALSE(m.codecs.sharding->index_at_start);
  ASSERT_EQ(m.codecs.sharding->codecs.bytes_to_bytes.size(), 1u);
  auto zstd = std::get<Zarr3ZstdCodec>(m.codecs.sharding->codecs.bytes_to_bytes[0]);
  EXPECT_EQ(zstd.level, 3);
  EXPECT_EQ(EncodeZarrJson(m), kOrbaxZarrJson);
}

TEST(Zarr3MetadataTest, EncodeResolvesDefaultsAsTensorStore) {
  json doc = Basic();
  doc["data_type"] = "uint8";
  doc["codecs"] = json::parse(R"([{"name":"transpose","configuration":{"order":"F"}},
      {"name":"bytes","configuration":{"endian":"little"}},
      {"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"noshuffle",
       "blocksize":0}}])");
  doc["chunk_key_encoding"] = {{"name", "v2"}, {"configuration", {{"separator", "."}}}};
  doc["dimension_names"] = {nullptr, nullptr};
  doc["attributes"] = json::object();
  doc["storage_transformers"] = json::array();
  doc["ext"] = {{"must_understand", false}, {"x", 1}};
  ASSERT_OK_AND_ASSIGN(auto m, Parse(doc));
  EXPECT_EQ(EncodeZarrJson(m),
            R"({"chunk_grid":{"configuration":{"chunk_shape":[3,4]},"name":"regular"},)"
            R"("chunk_key_encoding":{"name":"v2"},"codecs":[{"configuration":{"order":[1,0]},)"
            R"("name":"transpose"},{"name":"bytes"},{"configuration":{"blocksize":0,"clevel":5,)"
            R"("cname":"lz4","shuffle":"noshuffle"},"name":"blosc"}],"data_type":"uint8",)"
            R"("ext":{"must_understand":false,"x":1},"fill_value":0,"node_type":"array",)"
            R"("shape":[10,11],"zarr_format":3})");
}

TEST(Zarr3MetadataTest, IndexLocationStartAndSeparatorAreWrittenOnlyWhenNotDefault) {
  json doc = Basic();
  doc["chunk_key_encoding"] = {{"name", "default"}, {"configuration", {{"separator", "."}}}};
  doc["codecs"] = json::parse(R"([{"name":"sharding_indexed","configuration":{
      "chunk_shape":[3,2],"index_location":"start",
      "codecs":[{"name":"bytes","configuration":{"endian":"big"}}],
      "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}])");
  ASSERT_OK_AND_ASSIGN(auto m, Parse(doc));
  json out = json::parse(EncodeZarrJson(m));
  EXPECT_EQ(out["chunk_key_encoding"], json::parse(R"({"name":"default",
      "configuration":{"separator":"."}})"));
  EXPECT_EQ(out["codecs"][0]["configuration"]["index_location"], "start");
  doc["codecs"][0]["configuration"]["index_location"] = "end";
  ASSERT_OK_AND_ASSIGN(m, Parse(doc));
  out = json::parse(EncodeZarrJson(m));
  EXPECT_FALSE(out["codecs"][0]["configuration"].contains("index_location"));
}

// tensorstore/driver/zarr3/metadata_test.cc FillValueTest.{Float16, BFloat16,
// Float32, Float64}: default NaNs read and write as "NaN", other NaNs as hex.
TEST(Zarr3FillValueTest, FloatNaNsAndInfinities) {
  struct Case {
    DType dtype;
    std::uint64_t default_nan, other_nan;
    const char* other_text;
  };
  for (const Case& c :
       {Case{DType::kFloat16, 0x7e00, 0x7e01, "0x7e01"},
        Case{DType::kBfloat16, 0x7fc0, 0x7fc1, "0x7fc1"},
        Case{DType::kFloat32, 0x7fc00000, 0x7fc00001, "0x7fc00001"},
        Case{DType::kFloat64, 0x7ff8000000000000, 0x7ff8000000000001, "0x7ff8000000000001"}}) {
    SCOPED_TRACE(DTypeName(c.dtype));
    std::size_t size = ItemSize(c.dtype);
    auto bits = [&](const Bytes& b) {
      std::uint64_t v = 0;
      std::memcpy(&v, b.data(), size);
      return v;
    };
    ASSERT_OK_AND_ASSIGN(Bytes nan, ParseZarr3FillValue("NaN", c.dtype, "f"));
    EXPECT_EQ(bits(nan), c.default_nan);
    EXPECT_EQ(Zarr3FillValueToJson(nan, c.dtype), "NaN");
    ASSERT_OK_AND_ASSIGN(Bytes other, ParseZarr3FillValue(c.other_text, c.dtype, "f"));
    EXPECT_EQ(bits(other), c.other_nan);
    EXPECT_EQ(Zarr3FillValueToJson(other, c.dtype), c.other_text);
    for (const char* name : {"Infinity", "-Infinity"}) {
      ASSERT_OK_AND_ASSIGN(Bytes inf, ParseZarr3FillValue(name, c.dtype, "f"));
      EXPECT_EQ(Zarr3FillValueToJson(inf, c.dtype), name);
    }
    for (double v : {0.0, -0.0, -1.0, 1.0}) {
      ASSERT_OK_AND_ASSIGN(Bytes b, ParseZarr3FillValue(v, c.dtype, "f"));
      json back = Zarr3FillValueToJson(b, c.dtype);
      EXPECT_EQ(back.dump(), json(v).dump());
    }
    ASSERT_OK_AND_ASSIGN(Bytes zero, ParseZarr3FillValue("0x0", c.dtype, "f"));
    EXPECT_EQ(bits(zero), 0u);
    std::string too_long = "0x" + std::string(size * 2 + 1, '0');
    for (json bad : {json("0"), json(false), json("0x"), json("0xg"), json(too_long)}) {
      EXPECT_ERROR_CODE(ParseZarr3FillValue(bad, c.dtype, "f"), ErrorCode::kDataLoss);
    }
  }
}

// FillValueTest.Bool, Int8 and the complex cases of TestFloatFillValue.
TEST(Zarr3FillValueTest, BoolIntegersAndComplex) {
  EXPECT_EQ(
      Zarr3FillValueToJson(ParseZarr3FillValue(true, DType::kBool, "f").value(), DType::kBool),
      true);
  EXPECT_ERROR_CODE(ParseZarr3FillValue(0, DType::kBool, "f"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(ParseZarr3FillValue("true", DType::kBool, "f"), ErrorCode::kDataLoss);
  for (int v : {127, -128}) {
    EXPECT_EQ(Zarr3FillValueToJson(ParseZarr3FillValue(v, DType::kInt8, "f").value(), DType::kInt8),
              v);
  }
  for (json bad : {json(128), json("0"), json(false)}) {
    EXPECT_ERROR_CODE(ParseZarr3FillValue(bad, DType::kInt8, "f"), ErrorCode::kDataLoss);
  }
  EXPECT_EQ(Zarr3FillValueToJson(ParseZarr3FillValue(json::array({18446744073709551615ull}).at(0),
                                                     DType::kUint64, "f")
                                     .value(),
                                 DType::kUint64),
            json(18446744073709551615ull));
  EXPECT_ERROR_CODE(ParseZarr3FillValue(-1, DType::kUint32, "f"), ErrorCode::kDataLoss);
  for (json value : {json::array({"Infinity", "-Infinity"}), json::array({"NaN", "NaN"}),
                     json::array({1.0, -1.0})}) {
    ASSERT_OK_AND_ASSIGN(Bytes b, ParseZarr3FillValue(value, DType::kComplex64, "f"));
    EXPECT_EQ(Zarr3FillValueToJson(b, DType::kComplex64), value);
  }
  EXPECT_ERROR_CODE(ParseZarr3FillValue(0, DType::kComplex128, "f"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(ParseZarr3FillValue({0, 1, 2}, DType::kComplex128, "f"), ErrorCode::kDataLoss);
}

TEST(Zarr3FillValueTest, Float8NaNs) {
  EXPECT_EQ(ParseZarr3FillValue("NaN", DType::kFloat8E4m3fn, "f").value()[0], std::byte{0x7f});
  EXPECT_EQ(ParseZarr3FillValue("NaN", DType::kFloat8E5m2, "f").value()[0], std::byte{0x7e});
  EXPECT_EQ(Zarr3FillValueToJson(ParseZarr3FillValue("0xff", DType::kFloat8E5m2, "f").value(),
                                 DType::kFloat8E5m2),
            "0xff");
}

TEST(Zarr3MetadataTest, EveryStowageDTypeHasItsTensorStoreName) {
  for (DType dtype : kAllDTypes) {
    json doc = Basic();
    doc["data_type"] = Zarr3DTypeName(dtype);
    doc["fill_value"] = KindOf(dtype) == DTypeKind::kBool      ? json(false)
                        : KindOf(dtype) == DTypeKind::kComplex ? json::array({0, 0})
                                                               : json(0);
    ASSERT_OK_AND_ASSIGN(auto m, Parse(doc));
    EXPECT_EQ(m.dtype, dtype);
    EXPECT_EQ(json::parse(EncodeZarrJson(m))["data_type"], DTypeName(dtype));
  }
  for (const char* name : {"r16", "int4", "float8_e4m3fnuz", "string", "<i4"}) {
    json doc = Basic();
    doc["data_type"] = name;
    EXPECT_ERROR_CODE(Parse(doc), ErrorCode::kUnsupported);
  }
}

// driver_test.cc ChunkKeyEncodingTest.*
TEST(Zarr3ChunkKeyTest, MatchesTensorStore) {
  using K = ChunkKeyEncoding::Kind;
  ChunkKeyEncoding def{K::kDefault, '/'}, def_dot{K::kDefault, '.'};
  ChunkKeyEncoding v2{K::kV2, '.'}, v2_slash{K::kV2, '/'};
  EXPECT_EQ(Zarr3ChunkKey(def, {}), "c");
  EXPECT_EQ(Zarr3ChunkKey(def, std::vector<std::int64_t>{1}), "c/1");
  EXPECT_EQ(Zarr3ChunkKey(def_dot, std::vector<std::int64_t>{1}), "c.1");
  EXPECT_EQ(Zarr3ChunkKey(def, std::vector<std::int64_t>{1, 0}), "c/1/0");
  EXPECT_EQ(Zarr3ChunkKey(v2, {}), "0");
  EXPECT_EQ(Zarr3ChunkKey(v2, std::vector<std::int64_t>{1}), "1");
  EXPECT_EQ(Zarr3ChunkKey(v2, std::vector<std::int64_t>{1, 0}), "1.0");
  EXPECT_EQ(Zarr3ChunkKey(v2_slash, std::vector<std::int64_t>{1, 0}), "1/0");
}

TEST(Zarr3MetadataTest, HostileOrInvalidMetadataGivesTypedErrors) {
  auto expect = [](json doc, ErrorCode code) { EXPECT_ERROR_CODE(Parse(doc), code); };
  EXPECT_ERROR_CODE(ParseZarrJson(AsBytes(std::string_view("{not json")), "z", {}),
                    ErrorCode::kDataLoss);
  json doc = Basic();
  doc["shape"] = {std::int64_t{1} << 40, std::int64_t{1} << 40};
  expect(doc, ErrorCode::kResourceExhausted);
  doc = Basic();
  doc["chunk_grid"]["configuration"]["chunk_shape"] = {0, 4};
  expect(doc, ErrorCode::kDataLoss);
  doc = Basic();
  doc["chunk_grid"]["configuration"]["chunk_shape"] = {3};
  expect(doc, ErrorCode::kDataLoss);
  doc = Basic();
  doc["codecs"] = json::parse(R"([{"name":"bytes","configuration":{"endian":"little"}},
                                  {"name":"lzma"}])");
  expect(doc, ErrorCode::kUnsupported);
  doc = Basic();
  doc["foo"] = 42;  // MetadataTest.UnknownExtensionAttribute
  expect(doc, ErrorCode::kUnsupported);
  doc = Basic();
  doc["foo"] = {{"must_understand", true}};
  expect(doc, ErrorCode::kUnsupported);
  doc = Basic();
  doc["storage_transformers"] = {1};  // MetadataTest.NonEmptyStorageTransformers
  expect(doc, ErrorCode::kUnsupported);
  doc = Basic();
  doc.erase("fill_value");  // MetadataTest.ParseMissingMember
  expect(doc, ErrorCode::kDataLoss);
  doc = Basic();
  doc["zarr_format"] = 2;
  expect(doc, ErrorCode::kUnsupported);
  doc = Basic();
  doc["codecs"] = json::parse(R"([{"name":"bytes"}])");  // uint16 needs an endian
  expect(doc, ErrorCode::kDataLoss);
  doc = Basic();
  doc["codecs"] = json::parse(R"([{"name":"zstd","configuration":{"level":3}}])");
  expect(doc, ErrorCode::kDataLoss);  // no array -> bytes codec
  doc = Basic();
  doc["codecs"] = json::parse(R"([{"name":"bytes","configuration":{"endian":"little"}},
                                  {"name":"zstd"}])");  // stored form needs "level"
  expect(doc, ErrorCode::kDataLoss);
  doc = Basic();
  doc["codecs"] = json::parse(R"([{"name":"bytes","configuration":{"endian":"little",
                                  "extra":1}}])");
  expect(doc, ErrorCode::kDataLoss);
  doc = Basic();
  doc["codecs"] = json::parse(R"([{"name":"transpose","configuration":{"order":[0,0]}},
                                  {"name":"bytes","configuration":{"endian":"little"}}])");
  expect(doc, ErrorCode::kDataLoss);
}

json Sharded(json inner_chunk) {
  json doc = Basic();
  doc["codecs"] = {{{"name", "sharding_indexed"},
                    {"configuration",
                     {{"chunk_shape", inner_chunk},
                      {"codecs", {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}}},
                      {"index_codecs",
                       {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}},
                        {{"name", "crc32c"}}}}}}}};
  return doc;
}

TEST(Zarr3MetadataTest, ShardingLayoutIsChecked) {
  EXPECT_OK(Parse(Sharded({3, 2})));
  EXPECT_ERROR_CODE(Parse(Sharded({2, 2})), ErrorCode::kDataLoss);  // 2 does not divide 3
  EXPECT_ERROR_CODE(Parse(Sharded({3})), ErrorCode::kDataLoss);     // rank
  json huge = Sharded({1, 1});
  huge["chunk_grid"]["configuration"]["chunk_shape"] = {1 << 16, 1 << 15};
  huge["shape"] = {1 << 16, 1 << 15};
  huge["data_type"] = "uint8";
  huge["codecs"][0]["configuration"]["codecs"] = json::parse(R"([{"name":"bytes"}])");
  EXPECT_ERROR_CODE(Parse(huge), ErrorCode::kResourceExhausted);  // 2^31 inner chunks
  json after = Sharded({3, 2});
  after["codecs"].push_back({{"name", "crc32c"}});
  EXPECT_ERROR_CODE(Parse(after), ErrorCode::kUnsupported);
  json compressed_index = Sharded({3, 2});
  compressed_index["codecs"][0]["configuration"]["index_codecs"].push_back(
      {{"name", "gzip"}, {"configuration", {{"level", 1}}}});
  EXPECT_ERROR_CODE(Parse(compressed_index), ErrorCode::kUnsupported);
}

TEST(Zarr3MetadataTest, DeeplyNestedShardingIsRefused) {
  json codecs = json::parse(R"([{"name":"bytes","configuration":{"endian":"little"}}])");
  for (int i = 0; i < 40; ++i) {
    codecs = {
        {{"name", "sharding_indexed"},
         {"configuration",
          {{"chunk_shape", {3, 4}},
           {"codecs", codecs},
           {"index_codecs", {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}}}}}}};
  }
  json doc = Basic();
  doc["codecs"] = codecs;
  EXPECT_ERROR_CODE(Parse(doc), ErrorCode::kResourceExhausted);
}

// Issue 7 (fuzzing): a `zarr.json` nested 200000 levels deep overflowed the
// stack when its attributes were copied.
TEST(Zarr3MetadataTest, DeeplyNestedJsonIsDataLossNotAStackOverflow) {
  std::string text = R"({"zarr_format":3,"node_type":"array","attributes":{"a":)" +
                     std::string(200000, '[') + std::string(200000, ']') + "}}";
  auto parsed = ParseZarrJson(AsBytes(text), "a/zarr.json");
  EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
  EXPECT_NE(parsed.error().message().find("a/zarr.json"), std::string::npos);
}

// Issue 7 (fuzzing, zarr3_metadata): a chunk_grid with two members, "name"
// and a misspelt "configuration", was read past its end (heap use after free
// under ASan) by const operator[].
TEST(Zarr3MetadataTest, ChunkGridWithoutConfigurationIsDataLoss) {
  std::string text =
      R"({"zarr_format":3,"node_type":"array","shape":[30],"data_type":"int8",)"
      R"("chunk_grid":{"configuration9#":{"chunk_shape":[30]},"name":"regular"},)"
      R"("chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":["bytes"]})";
  auto parsed = ParseZarrJson(AsBytes(text), "a/zarr.json");
  EXPECT_ERROR_CODE(parsed, ErrorCode::kDataLoss);
  EXPECT_NE(parsed.error().message().find("a/zarr.json: chunk_grid"), std::string::npos);
}

}  // namespace
}  // namespace stowage::zarr
