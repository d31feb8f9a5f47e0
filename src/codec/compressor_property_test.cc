// Properties every compressor configuration must have: round trips, exact
// output sizes, and DataLoss (never a crash) for hostile input.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "codec/compressor.h"
#include "codec/test_util.h"
#include "testutil/testutil.h"

namespace stowage::codec {
namespace {

using testing::CompressibleBytes;
using testing::Decode;
using testing::RandomBytes;

std::vector<std::string> AllConfigs() {
  std::vector<std::string> configs = {
      R"({"id":"zstd"})",
      R"({"id":"zstd","level":-3})",
      R"({"id":"zstd","level":9})",
      R"({"id":"zstd","level":3,"checksum":true})",
      R"({"id":"zlib"})",
      R"({"id":"zlib","level":0})",
      R"({"id":"zlib","level":9})",
      R"({"id":"zlib","level":-1})",
      R"({"id":"gzip"})",
      R"({"id":"gzip","level":0})",
      R"({"id":"gzip","level":9})",
      R"({"id":"lz4"})",
      R"({"id":"lz4","acceleration":0})",
      R"({"id":"lz4","acceleration":50})",
      R"({"id":"blosc"})",
      R"({"id":"blosc","cname":"lz4","clevel":0})",
      R"({"id":"blosc","cname":"zstd","clevel":9,"blocksize":256})",
      R"({"id":"blosc","cname":"blosclz","clevel":9,"blocksize":65536})",
  };
  for (const char* cname : {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"}) {
    for (int shuffle = -1; shuffle <= 2; ++shuffle) {
      configs.push_back(R"({"id":"blosc","cname":")" + std::string(cname) + R"(","shuffle":)" +
                        std::to_string(shuffle) + "}");
    }
  }
  return configs;
}

class CompressorPropertyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    compressor_ = testing::Make(GetParam());
    ASSERT_NE(compressor_, nullptr);
  }

  // Encodes `data`, failing the test on error.
  Bytes MustEncode(const Bytes& data, std::size_t item_size = 4) {
    auto encoded = compressor_->Encode(data, item_size);
    EXPECT_TRUE(encoded.has_value()) << encoded.error().ToString();
    return encoded.has_value() ? *encoded : Bytes();
  }

  std::unique_ptr<Compressor> compressor_;
};

TEST_P(CompressorPropertyTest, RoundTrips) {
  const std::vector<Bytes> inputs = {
      Bytes(),
      Bytes(1, std::byte{42}),
      RandomBytes(1000, 1),
      RandomBytes(300001, 2),
      CompressibleBytes(10000),
      CompressibleBytes(400000),
      Bytes(65536, std::byte{0}),
  };
  for (const Bytes& input : inputs) {
    SCOPED_TRACE(input.size());
    Bytes encoded = MustEncode(input);
    ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(*compressor_, encoded, input.size()));
    EXPECT_TRUE(decoded == input);
  }
}

TEST_P(CompressorPropertyTest, RoundTripsEveryItemSize) {
  Bytes input = CompressibleBytes(24000);
  for (std::size_t item_size : {1, 2, 3, 4, 8, 16, 300}) {
    SCOPED_TRACE(item_size);
    Bytes encoded = MustEncode(input, item_size);
    ASSERT_OK_AND_ASSIGN(Bytes decoded, Decode(*compressor_, encoded, input.size()));
    EXPECT_TRUE(decoded == input);
  }
}

TEST_P(CompressorPropertyTest, CompressesCompressibleData) {
  if (GetParam().find(R"("level":0)") != std::string::npos ||
      GetParam().find(R"("clevel":0)") != std::string::npos) {
    GTEST_SKIP() << "level 0 stores";
  }
  Bytes input = CompressibleBytes(40000);
  EXPECT_LT(MustEncode(input).size(), input.size() / 2);
}

TEST_P(CompressorPropertyTest, WrongOutputSizeIsDataLoss) {
  for (const Bytes& input : {CompressibleBytes(5000), RandomBytes(5000, 3), Bytes()}) {
    SCOPED_TRACE(input.size());
    Bytes encoded = MustEncode(input);
    if (!input.empty()) {
      EXPECT_ERROR_CODE(Decode(*compressor_, encoded, input.size() - 1), ErrorCode::kDataLoss);
    }
    EXPECT_ERROR_CODE(Decode(*compressor_, encoded, input.size() + 1), ErrorCode::kDataLoss);
    EXPECT_ERROR_CODE(Decode(*compressor_, encoded, 2 * input.size() + 100), ErrorCode::kDataLoss);
  }
}

TEST_P(CompressorPropertyTest, EveryTruncationIsDataLoss) {
  for (const Bytes& input : {CompressibleBytes(3000), RandomBytes(700, 4)}) {
    Bytes encoded = MustEncode(input);
    for (std::size_t n = 0; n < encoded.size(); ++n) {
      SCOPED_TRACE(n);
      std::span<const std::byte> prefix(encoded.data(), n);
      EXPECT_ERROR_CODE(Decode(*compressor_, prefix, input.size()), ErrorCode::kDataLoss);
    }
  }
}

TEST_P(CompressorPropertyTest, RandomGarbageIsDataLoss) {
  std::mt19937 rng(5);
  for (std::uint32_t seed = 0; seed < 300; ++seed) {
    Bytes garbage = RandomBytes(rng() % 400, seed);
    SCOPED_TRACE(seed);
    EXPECT_ERROR_CODE(Decode(*compressor_, garbage, 256), ErrorCode::kDataLoss);
  }
}

// Flipped bytes in a valid encoding either still decode (bits a codec does
// not check) or fail with kDataLoss; the sanitizer build checks that nothing
// reads or writes out of bounds.
TEST_P(CompressorPropertyTest, CorruptionNeverCrashes) {
  Bytes input = CompressibleBytes(6000);
  Bytes encoded = MustEncode(input);
  std::mt19937 rng(6);
  for (int trial = 0; trial < 400; ++trial) {
    Bytes corrupt = encoded;
    for (int flips = 1 + trial % 3; flips > 0; --flips) {
      corrupt[rng() % corrupt.size()] ^= std::byte(1 + rng() % 255);
    }
    auto decoded = Decode(*compressor_, corrupt, input.size());
    if (!decoded.has_value()) {
      EXPECT_EQ(decoded.error().code(), ErrorCode::kDataLoss) << decoded.error().ToString();
    }
  }
}

TEST_P(CompressorPropertyTest, ConcurrentCallsAgree) {
  std::vector<Bytes> inputs;
  for (std::uint32_t i = 0; i < 4; ++i) {
    inputs.push_back(i % 2 ? RandomBytes(20000 + i, i) : CompressibleBytes(30000 + i));
  }
  std::vector<int> failures(inputs.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < inputs.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        auto encoded = compressor_->Encode(inputs[t], 4);
        if (!encoded.has_value()) {
          ++failures[t];
          continue;
        }
        auto decoded = Decode(*compressor_, *encoded, inputs[t].size());
        if (!decoded.has_value() || *decoded != inputs[t]) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CompressorPropertyTest, ::testing::ValuesIn(AllConfigs()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name;
                           for (char c : info.param) {
                             if (std::isalnum(static_cast<unsigned char>(c))) name += c;
                             if (c == '-') name += "minus";
                           }
                           return name;
                         });

}  // namespace
}  // namespace stowage::codec
