// The S3 store against a real S3-compatible server on loopback (s3rver,
// started by scripts/s3rver.sh). Skipped when node or s3rver is missing,
// unless STOWAGE_REQUIRE_S3RVER=1 (scripts/test.sh) makes that a failure.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "base/bytes.h"
#include "kvstore/s3_test_fixture.h"
#include "kvstore/s3_test_server.h"
#include "stowage/s3.h"
#include "testutil/testutil.h"

namespace stowage::kvstore {
namespace {

using s3_testing::S3rver;

constexpr char kBucket[] = "stowage-test";

Bytes RandomBytes(std::size_t size, std::uint64_t seed) {
  Bytes out(size);
  std::mt19937_64 random(seed);
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = random();
    std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return out;
}

class S3StoreTest : public s3_testing::SharedS3rverTest {
 protected:
  static void SetUpTestSuite() { StartSharedServer(kBucket); }

  S3Options Options() const {
    return S3Options{.endpoint = server_->endpoint(),
                     .region = "us-east-1",
                     .bucket = kBucket,
                     .prefix = std::string("runs/") +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                     .credentials = S3Credentials{"S3RVER", "S3RVER", ""}};
  }

  std::unique_ptr<Store> Open(S3Options options) {
    auto store = OpenS3Store(std::move(options));
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return store ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<Store> Open() { return Open(Options()); }

  // Options whose requests pass through a (fault-free) proxy that counts them.
  S3Options CountedOptions() {
    proxy_ = std::make_unique<s3_testing::FaultProxy>(server_->port());
    S3Options options = Options();
    options.endpoint = proxy_->endpoint();
    return options;
  }

  std::unique_ptr<s3_testing::FaultProxy> proxy_;
};

TEST_F(S3StoreTest, WriteReadOverwriteAndEmptyValue) {
  auto store = Open();
  ASSERT_OK(store->Write("a/b/.zarray", ToBytes("{}")));
  ASSERT_OK_AND_ASSIGN(auto value, store->Read("a/b/.zarray"));
  EXPECT_EQ(AsStringView(value), "{}");
  ASSERT_OK(store->Write("a/b/.zarray", ToBytes("{\"x\":1}"), {.atomic = true}));
  ASSERT_OK_AND_ASSIGN(value, store->Read("a/b/.zarray"));
  EXPECT_EQ(AsStringView(value), "{\"x\":1}");
  ASSERT_OK(store->Write("empty", {}));
  ASSERT_OK_AND_ASSIGN(value, store->Read("empty"));
  EXPECT_TRUE(value.empty());
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists("empty"));
  EXPECT_TRUE(exists);
}

TEST_F(S3StoreTest, KeysNeedingEncodingRoundTrip) {
  auto store = Open();
  const std::string key = "dir with space/\xC3\xBC+%=&?#;,'!*()$@~.bin";
  ASSERT_OK(store->Write(key, ToBytes("odd")));
  ASSERT_OK_AND_ASSIGN(auto value, store->Read(key));
  EXPECT_EQ(AsStringView(value), "odd");
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("dir with"));
  EXPECT_EQ(keys, std::vector<std::string>{key});
}

TEST_F(S3StoreTest, MissingKeysAreNotFoundAndNamed) {
  auto store = Open();
  auto read = store->Read("no/such");
  EXPECT_ERROR_CODE(read, ErrorCode::kNotFound);
  std::string name = "s3://stowage-test/runs/MissingKeysAreNotFoundAndNamed/no/such";
  EXPECT_NE(read.error().message().find(name), std::string::npos) << read.error().message();
  EXPECT_NE(read.error().message().find("NoSuchKey"), std::string::npos);
  std::vector<std::byte> out(4);
  EXPECT_ERROR_CODE(store->ReadInto("no/such", out), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(store->ReadRange("no/such", 0, 2), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(store->ReadRange("no/such", 0, 0), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists("no/such"));
  EXPECT_FALSE(exists);
  EXPECT_EQ(store->Describe("k"), "s3://stowage-test/runs/MissingKeysAreNotFoundAndNamed/k");
  EXPECT_ERROR_CODE(store->Read("../x"), ErrorCode::kInvalidArgument);
}

TEST_F(S3StoreTest, RangesAndSizeLimits) {
  auto store = Open();
  ASSERT_OK(store->Write("v", ToBytes("0123456789")));
  ASSERT_OK_AND_ASSIGN(auto part, store->ReadRange("v", 3, 4));
  EXPECT_EQ(AsStringView(part), "3456");
  ASSERT_OK_AND_ASSIGN(part, store->ReadRange("v", 0, 10));
  EXPECT_EQ(AsStringView(part), "0123456789");
  ASSERT_OK_AND_ASSIGN(part, store->ReadRange("v", 10, 0));
  EXPECT_TRUE(part.empty());
  EXPECT_ERROR_CODE(store->ReadRange("v", 8, 3), ErrorCode::kDataLoss);   // runs past the end
  EXPECT_ERROR_CODE(store->ReadRange("v", 10, 1), ErrorCode::kDataLoss);  // starts at the end
  EXPECT_ERROR_CODE(store->ReadRange("v", 11, 0), ErrorCode::kDataLoss);
  auto far = store->ReadRange("v", 1000, 5);
  EXPECT_ERROR_CODE(far, ErrorCode::kDataLoss);
  EXPECT_NE(far.error().message().find("/v"), std::string::npos);
  EXPECT_ERROR_CODE(store->Read("v", {.max_bytes = 9}), ErrorCode::kDataLoss);
  ASSERT_OK_AND_ASSIGN(auto whole, store->Read("v", {.max_bytes = 10}));
  EXPECT_EQ(whole.size(), 10u);
  std::vector<std::byte> out(9);
  EXPECT_ERROR_CODE(store->ReadInto("v", out), ErrorCode::kDataLoss);
  out.resize(11);
  EXPECT_ERROR_CODE(store->ReadInto("v", out), ErrorCode::kDataLoss);
  out.resize(10);
  ASSERT_OK(store->ReadInto("v", out));
  EXPECT_EQ(AsStringView(out), "0123456789");
}

TEST_F(S3StoreTest, DeleteRemovesAndIsIdempotent) {
  auto store = Open();
  ASSERT_OK(store->Write("d", ToBytes("x")));
  ASSERT_OK(store->Delete("d"));
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists("d"));
  EXPECT_FALSE(exists);
  EXPECT_ERROR_CODE(store->Read("d"), ErrorCode::kNotFound);
  ASSERT_OK(store->Delete("d"));
}

TEST_F(S3StoreTest, ListPaginatesAndStaysInsideThePrefix) {
  S3Options options = Options();
  options.list_page_size = 7;  // 50 keys: 8 pages
  auto store = Open(options);
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "x/%03d", i);
    expected.push_back(key);
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (std::size_t i = t; i < expected.size(); i += 8) EXPECT_OK(store->Write(expected[i], {}));
    });
  }
  for (auto& writer : writers) writer.join();
  // "xz/0", not "x.z/0": s3rver pages through its directory tree, which puts "x.z/" after
  // "x/" unlike S3's byte order, and then loses keys across pages.
  ASSERT_OK(store->Write("xz/0", {}));
  ASSERT_OK(store->Write("y/0", {}));
  S3Options other = Options();
  other.prefix += "-other";  // a sibling prefix sharing the leading characters
  ASSERT_OK(Open(other)->Write("x/999", {}));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("x/"));
  EXPECT_EQ(keys, expected);
  ASSERT_OK_AND_ASSIGN(keys, store->List(""));
  EXPECT_EQ(keys.size(), 52u);
  ASSERT_OK_AND_ASSIGN(keys, store->List("nothing/"));
  EXPECT_TRUE(keys.empty());
}

TEST_F(S3StoreTest, LargeValuesUseMultipartAndRoundTripExactly) {
  S3Options options = CountedOptions();
  options.multipart_threshold = 5 << 20;
  options.part_size = 5 << 20;
  auto store = Open(options);
  Bytes value = RandomBytes((17 << 20) + 123, 17);
  ASSERT_OK(store->Write("big", value));
  EXPECT_EQ(proxy_->requests, 6);  // create, 4 parts, complete
  ASSERT_OK_AND_ASSIGN(auto back, store->Read("big"));
  EXPECT_TRUE(back == value);
  Bytes into(value.size());
  ASSERT_OK(store->ReadInto("big", into));
  EXPECT_TRUE(into == value);
  ASSERT_OK_AND_ASSIGN(auto across, store->ReadRange("big", (5 << 20) - 10, 20));
  EXPECT_TRUE(std::equal(across.begin(), across.end(), value.begin() + (5 << 20) - 10));
  // Under the threshold: one PUT.
  int before = proxy_->requests;
  ASSERT_OK(store->Write("small", RandomBytes(1 << 20, 1)));
  EXPECT_EQ(proxy_->requests, before + 1);
}

TEST_F(S3StoreTest, AppendWriterBuildsTheValueFromParts) {
  S3Options options = CountedOptions();
  options.part_size = 5 << 20;
  options.multipart_threshold = 5 << 20;
  auto store = Open(options);
  ASSERT_OK_AND_ASSIGN(auto writer, store->OpenAppend("data/file"));
  Bytes expected;
  for (int i = 0; i < 6; ++i) {
    Bytes blob = RandomBytes((3 << 20) + i, i);
    ASSERT_OK_AND_ASSIGN(auto offset, writer->Append(blob));
    EXPECT_EQ(offset, expected.size());
    expected.insert(expected.end(), blob.begin(), blob.end());
  }
  EXPECT_EQ(writer->size(), expected.size());
  EXPECT_EQ(proxy_->requests, 4);  // create, a part after each ~6 MiB
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists("data/file"));
  EXPECT_FALSE(exists);  // nothing visible before Close
  ASSERT_OK(writer->Close());
  EXPECT_EQ(proxy_->requests, 6);  // + the HEAD, complete (no bytes were left for a last part)
  ASSERT_OK_AND_ASSIGN(auto back, store->Read("data/file"));
  EXPECT_TRUE(back == expected);

  // Smaller than a part: one PUT on Close.
  ASSERT_OK_AND_ASSIGN(writer, store->OpenAppend("data/small"));
  ASSERT_OK(writer->Append(ToBytes("ab")));
  ASSERT_OK_AND_ASSIGN(auto offset, writer->Append(ToBytes("cd")));
  EXPECT_EQ(offset, 2u);
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(back, store->Read("data/small"));
  EXPECT_EQ(AsStringView(back), "abcd");

  // Abandoned before Close: no value appears.
  ASSERT_OK_AND_ASSIGN(writer, store->OpenAppend("data/abandoned"));
  ASSERT_OK(writer->Append(RandomBytes(6 << 20, 9)));
  writer.reset();
  ASSERT_OK_AND_ASSIGN(exists, store->Exists("data/abandoned"));
  EXPECT_FALSE(exists);
}

TEST_F(S3StoreTest, AppendWriterUnderTheThresholdSendsOnePut) {
  S3Options options = CountedOptions();
  options.part_size = 5 << 20;
  options.multipart_threshold = 16 << 20;
  auto store = Open(options);
  ASSERT_OK_AND_ASSIGN(auto writer, store->OpenAppend("data/one"));
  Bytes expected;
  for (int i = 0; i < 3; ++i) {
    Bytes blob = RandomBytes((4 << 20) + i, 20 + i);
    ASSERT_OK(writer->Append(blob));
    expected.insert(expected.end(), blob.begin(), blob.end());
  }
  EXPECT_EQ(proxy_->requests, 0);  // 12 MiB stays buffered: no upload started
  ASSERT_OK(writer->Close());
  EXPECT_EQ(proxy_->requests, 1);  // one PUT
  ASSERT_OK_AND_ASSIGN(auto back, store->Read("data/one"));
  EXPECT_TRUE(back == expected);
  // Past the threshold the first part holds all that was buffered.
  ASSERT_OK_AND_ASSIGN(writer, store->OpenAppend("data/two"));
  expected.clear();
  for (int i = 0; i < 5; ++i) {
    Bytes blob = RandomBytes((4 << 20) + i, 30 + i);
    ASSERT_OK(writer->Append(blob));
    expected.insert(expected.end(), blob.begin(), blob.end());
  }
  EXPECT_EQ(proxy_->requests, 4);  // + create, the first part of 16 MiB
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(back, store->Read("data/two"));
  EXPECT_TRUE(back == expected);
}

TEST_F(S3StoreTest, ConcurrentAppendsOccupyDisjointRanges) {
  S3Options options = Options();
  options.part_size = 5 << 20;
  options.multipart_threshold = 5 << 20;
  auto store = Open(options);
  ASSERT_OK_AND_ASSIGN(auto writer, store->OpenAppend("data/concurrent"));
  constexpr int kThreads = 6, kBlobs = 4;
  std::vector<std::vector<std::pair<std::uint64_t, Bytes>>> appended(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBlobs; ++i) {
        Bytes blob = RandomBytes((1 << 20) + 1000 * t + i, 1000 * t + i);
        auto offset = writer->Append(blob);
        ASSERT_TRUE(offset.has_value()) << offset.error().ToString();
        appended[t].emplace_back(*offset, std::move(blob));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(auto value, store->Read("data/concurrent"));
  EXPECT_EQ(value.size(), writer->size());
  std::uint64_t total = 0;
  for (const auto& blobs : appended) {
    for (const auto& [offset, blob] : blobs) {
      total += blob.size();
      ASSERT_LE(offset + blob.size(), value.size());
      EXPECT_TRUE(std::equal(blob.begin(), blob.end(), value.begin() + offset)) << offset;
    }
  }
  EXPECT_EQ(total, value.size());
}

TEST_F(S3StoreTest, ConcurrentCallersShareABoundedStore) {
  S3Options options = Options();
  options.max_in_flight = 3;
  auto store = Open(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string key = "c/" + std::to_string(t) + "/" + std::to_string(i);
        Bytes value = RandomBytes(1000 + t * 100 + i, t * 100 + i);
        EXPECT_OK(store->Write(key, value));
        auto back = store->Read(key);
        ASSERT_TRUE(back.has_value()) << back.error().ToString();
        EXPECT_TRUE(*back == value) << key;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_OK_AND_ASSIGN(auto keys, store->List("c/"));
  EXPECT_EQ(keys.size(), 120u);
}

TEST_F(S3StoreTest, WrongCredentialsAndMissingBucketAreTypedErrors) {
  S3Options options = Options();
  options.credentials = S3Credentials{"NOT-A-KEY", "secret", ""};
  auto store = Open(options);
  auto denied = store->Write("k", ToBytes("v"));
  EXPECT_ERROR_CODE(denied, ErrorCode::kIo);
  EXPECT_NE(denied.error().message().find("permission denied"), std::string::npos)
      << denied.error().message();
  EXPECT_NE(denied.error().message().find("InvalidAccessKeyId"), std::string::npos);
  EXPECT_NE(denied.error().message().find("/k"), std::string::npos);

  options = Options();
  options.bucket = "no-such-bucket";
  auto missing = Open(options)->Read("k");
  EXPECT_ERROR_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("NoSuchBucket"), std::string::npos);
}

TEST_F(S3StoreTest, VirtualHostAddressingReachesTheSameObjects) {
  S3Options options = Options();
  options.addressing = S3Addressing::kVirtualHost;  // http://stowage-test.s3.localhost:PORT
  options.endpoint = "http://s3.localhost:" + std::to_string(server_->port());
  auto virtual_host = Open(options);
  ASSERT_OK(virtual_host->Write("dir/v h", ToBytes("vhost")));
  ASSERT_OK_AND_ASSIGN(auto value, Open()->Read("dir/v h"));  // read path-style
  EXPECT_EQ(AsStringView(value), "vhost");
  ASSERT_OK_AND_ASSIGN(auto keys, virtual_host->List("dir/"));
  EXPECT_EQ(keys, std::vector<std::string>{"dir/v h"});
  ASSERT_OK_AND_ASSIGN(auto range, virtual_host->ReadRange("dir/v h", 1, 3));
  EXPECT_EQ(AsStringView(range), "hos");
  ASSERT_OK(virtual_host->Delete("dir/v h"));
  EXPECT_ERROR_CODE(Open()->Read("dir/v h"), ErrorCode::kNotFound);
}

TEST_F(S3StoreTest, OpenRejectsBadOptions) {
  S3Options options = Options();
  options.part_size = 1 << 20;
  EXPECT_ERROR_CODE(OpenS3Store(options), ErrorCode::kInvalidArgument);
  options = Options();
  options.endpoint = "localhost:9000";
  EXPECT_ERROR_CODE(OpenS3Store(options), ErrorCode::kInvalidArgument);
  options = Options();
  options.bucket = "";
  EXPECT_ERROR_CODE(OpenS3Store(options), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace stowage::kvstore
