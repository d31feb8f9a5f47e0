// The registry: parsing zarr v2 "compressor" objects and writing them back.
#include "codec/compressor.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/test_util.h"
#include "testutil/testutil.h"

namespace stowage::codec {
namespace {

using ::nlohmann::json;

// Absent parameters take numcodecs' defaults, and ToJson spells all of them
// (key order is nlohmann's sorted order, as TensorStore writes them).
TEST(MakeCompressorTest, DefaultsMatchNumcodecs) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"id":"zstd"})", R"({"id":"zstd","level":1})"},
      {R"({"id":"zlib"})", R"({"id":"zlib","level":1})"},
      {R"({"id":"gzip"})", R"({"id":"gzip","level":1})"},
      {R"({"id":"lz4"})", R"({"acceleration":1,"id":"lz4"})"},
      {R"({"id":"blosc"})", R"({"blocksize":0,"clevel":5,"cname":"lz4","id":"blosc","shuffle":1})"},
  };
  for (const auto& [input, expected] : cases) {
    ASSERT_OK_AND_ASSIGN(auto compressor, MakeCompressor(json::parse(input)));
    EXPECT_EQ(compressor->ToJson().dump(), expected) << input;
  }
}

TEST(MakeCompressorTest, ToJsonKeepsParameters) {
  const char* configs[] = {
      R"({"id":"zstd","level":7})",
      R"({"checksum":true,"id":"zstd","level":3})",
      R"({"id":"zstd","level":-5})",
      R"({"id":"zlib","level":9})",
      R"({"id":"gzip","level":0})",
      R"({"acceleration":10,"id":"lz4"})",
      R"({"blocksize":4096,"clevel":9,"cname":"zstd","id":"blosc","shuffle":2})",
      R"({"blocksize":0,"clevel":0,"cname":"blosclz","id":"blosc","shuffle":-1})",
  };
  for (const char* config : configs) {
    ASSERT_OK_AND_ASSIGN(auto compressor, MakeCompressor(json::parse(config)));
    EXPECT_EQ(compressor->ToJson().dump(), config);
    ASSERT_OK_AND_ASSIGN(auto again, MakeCompressor(compressor->ToJson()));
    EXPECT_EQ(again->ToJson(), compressor->ToJson());
  }
}

// TensorStore writes checksum false explicitly in some versions; it is the
// default and is not echoed back.
TEST(MakeCompressorTest, ZstdChecksumFalseIsAccepted) {
  ASSERT_OK_AND_ASSIGN(auto compressor,
                       MakeCompressor(json::parse(R"({"id":"zstd","level":2,"checksum":false})")));
  EXPECT_EQ(compressor->ToJson().dump(), R"({"id":"zstd","level":2})");
}

TEST(MakeCompressorTest, UnknownFieldsAreIgnored) {
  ASSERT_OK_AND_ASSIGN(auto compressor,
                       MakeCompressor(json::parse(R"({"id":"blosc","typesize":4})")));
  EXPECT_EQ(compressor->ToJson()["cname"], "lz4");
}

TEST(MakeCompressorTest, UnknownIdIsUnsupportedAndNamed) {
  for (const char* id : {"bz2", "lzma", "ZSTD", ""}) {
    auto result = MakeCompressor(json{{"id", id}});
    EXPECT_ERROR_CODE(result, ErrorCode::kUnsupported);
    EXPECT_NE(result.error().message().find("\"" + std::string(id) + "\""), std::string::npos)
        << result.error().message();
  }
}

TEST(MakeCompressorTest, NonObjectIsDataLoss) {
  for (const char* text : {"null", "[]", "\"zstd\"", "1", "true"}) {
    EXPECT_ERROR_CODE(MakeCompressor(json::parse(text)), ErrorCode::kDataLoss);
  }
}

TEST(MakeCompressorTest, MissingOrNonStringIdIsDataLoss) {
  for (const char* text : {R"({})", R"({"level":1})", R"({"id":5})", R"({"id":null})"}) {
    auto result = MakeCompressor(json::parse(text));
    EXPECT_ERROR_CODE(result, ErrorCode::kDataLoss);
    EXPECT_NE(result.error().message().find("\"id\""), std::string::npos);
  }
}

TEST(MakeCompressorTest, BadFieldIsDataLossNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"id":"zstd","level":"1"})", "level"},
      {R"({"id":"zstd","level":1.0})", "level"},
      {R"({"id":"zstd","level":true})", "level"},
      {R"({"id":"zstd","level":23})", "level"},
      {R"({"id":"zstd","level":18446744073709551615})", "level"},
      {R"({"id":"zstd","checksum":1})", "checksum"},
      {R"({"id":"zlib","level":10})", "level"},
      {R"({"id":"gzip","level":-2})", "level"},
      {R"({"id":"gzip","level":null})", "level"},
      {R"({"id":"lz4","acceleration":"fast"})", "acceleration"},
      {R"({"id":"lz4","acceleration":4294967296})", "acceleration"},
      {R"({"id":"blosc","cname":5})", "cname"},
      {R"({"id":"blosc","clevel":10})", "clevel"},
      {R"({"id":"blosc","clevel":"5"})", "clevel"},
      {R"({"id":"blosc","shuffle":3})", "shuffle"},
      {R"({"id":"blosc","shuffle":-2})", "shuffle"},
      {R"({"id":"blosc","shuffle":1.5})", "shuffle"},
      {R"({"id":"blosc","blocksize":-1})", "blocksize"},
      {R"({"id":"blosc","blocksize":[0]})", "blocksize"},
  };
  for (const auto& [text, field] : cases) {
    auto result = MakeCompressor(json::parse(text));
    EXPECT_ERROR_CODE(result, ErrorCode::kDataLoss);
    EXPECT_NE(result.error().message().find("\"" + std::string(field) + "\""), std::string::npos)
        << text << " -> " << result.error().message();
  }
}

TEST(MakeCompressorTest, UnknownBloscCnameIsUnsupported) {
  auto result = MakeCompressor(json::parse(R"({"id":"blosc","cname":"brotli"})"));
  EXPECT_ERROR_CODE(result, ErrorCode::kUnsupported);
  EXPECT_NE(result.error().message().find("brotli"), std::string::npos);
}

TEST(MakeCompressorOrNoneTest, NullMeansNoCompressor) {
  ASSERT_OK_AND_ASSIGN(auto none, MakeCompressorOrNone(nullptr));
  EXPECT_EQ(none, nullptr);
  ASSERT_OK_AND_ASSIGN(auto zstd, MakeCompressorOrNone(json{{"id", "zstd"}}));
  ASSERT_NE(zstd, nullptr);
  EXPECT_EQ(zstd->ToJson()["id"], "zstd");
  EXPECT_ERROR_CODE(MakeCompressorOrNone(json::array()), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace stowage::codec
