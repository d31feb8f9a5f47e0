#include "base/stored_json.h"

#include <gtest/gtest.h>

#include <string>

namespace stowage {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(StoredJsonTest, ParsesUpToTheDepthLimit) {
  auto doc = ParseStoredJson<nlohmann::json>(Nested(kMaxStoredJsonDepth + 1), "f.json");
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();  // depths 0..kMaxStoredJsonDepth
  auto ordered = ParseStoredJson<nlohmann::ordered_json>(R"({"b": 1, "a": [true]})", "f.json");
  ASSERT_TRUE(ordered.has_value());
  EXPECT_EQ(ordered->dump(), R"({"b":1,"a":[true]})");
}

TEST(StoredJsonTest, DeeperNestingAndBadTextAreDataLossNamingTheFile) {
  for (int depth : {kMaxStoredJsonDepth + 2, 1000000}) {
    auto doc = ParseStoredJson<nlohmann::json>(Nested(depth), "d/f.json");
    ASSERT_FALSE(doc.has_value());
    EXPECT_EQ(doc.error().code(), ErrorCode::kDataLoss);
    EXPECT_EQ(doc.error().message(), "d/f.json: JSON nested deeper than 1000 levels");
  }
  auto bad = ParseStoredJson<nlohmann::json>("{\"a\": ", "d/f.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(bad.error().message(), "d/f.json: not valid JSON");
}

}  // namespace
}  // namespace stowage
