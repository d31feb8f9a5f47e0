// Faults between the S3 store and a real server (s3rver on loopback): 5xx
// answers injected by a proxy, slow responses, the server killed mid-write,
// nothing listening. Each must end in a typed error (kIo, naming the key)
// within the configured timeouts, or succeed after retries.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "base/bytes.h"
#include "kvstore/s3_test_server.h"
#include "stowage/s3.h"
#include "testutil/testutil.h"

namespace stowage::kvstore {
namespace {

using s3_testing::FaultProxy;
using s3_testing::S3rver;
using Clock = std::chrono::steady_clock;

constexpr char kBucket[] = "faults";

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class S3FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    server_ = S3rver::Start(kBucket, &why_not);
    if (!server_) {
      if (s3_testing::S3rverRequired()) FAIL() << why_not;
      GTEST_SKIP() << why_not;
    }
  }

  S3Options Options(const std::string& endpoint) const {
    return S3Options{.endpoint = endpoint,
                     .bucket = kBucket,
                     .prefix = "p",
                     .credentials = S3Credentials{"S3RVER", "S3RVER", ""},
                     .max_retries = 3,
                     .initial_backoff = std::chrono::milliseconds(10),
                     .max_backoff = std::chrono::milliseconds(50),
                     .connect_timeout = std::chrono::milliseconds(1000),
                     .idle_timeout = std::chrono::milliseconds(1000)};
  }

  std::unique_ptr<Store> Open(const S3Options& options) {
    auto store = OpenS3Store(options);
    EXPECT_TRUE(store.has_value());
    return std::move(store).value();
  }

  std::unique_ptr<S3rver> server_;
};

TEST_F(S3FaultTest, InjectedServerErrorsAreRetriedUntilSuccess) {
  FaultProxy proxy(server_->port());
  auto store = Open(Options(proxy.endpoint()));
  proxy.fail_next = 3;  // within max_retries = 3
  ASSERT_OK(store->Write("k", ToBytes("value")));
  EXPECT_EQ(proxy.failed, 3);
  EXPECT_EQ(proxy.requests, 4);
  proxy.fail_next = 2;
  ASSERT_OK_AND_ASSIGN(auto value, store->Read("k"));
  EXPECT_EQ(AsStringView(value), "value");
  proxy.fail_next = 1;
  ASSERT_OK_AND_ASSIGN(auto keys, store->List(""));
  EXPECT_EQ(keys, std::vector<std::string>{"k"});
  EXPECT_EQ(proxy.failed, 6);
}

TEST_F(S3FaultTest, PersistentServerErrorsFailWithTheStatusAndKey) {
  FaultProxy proxy(server_->port());
  auto store = Open(Options(proxy.endpoint()));
  proxy.fail_next = 1000;
  auto start = Clock::now();
  auto status = store->Write("a/b", ToBytes("value"));
  EXPECT_ERROR_CODE(status, ErrorCode::kIo);
  const std::string& message = status.error().message();
  EXPECT_NE(message.find("s3://faults/p/a/b"), std::string::npos) << message;
  EXPECT_NE(message.find("503 SlowDown"), std::string::npos) << message;
  EXPECT_NE(message.find("after 4 attempts"), std::string::npos) << message;
  EXPECT_EQ(proxy.requests, 4);
  EXPECT_LT(SecondsSince(start), 5.0);
}

TEST_F(S3FaultTest, SlowResponsesTimeOut) {
  FaultProxy proxy(server_->port());
  S3Options options = Options(proxy.endpoint());
  options.max_retries = 1;
  auto store = Open(options);
  ASSERT_OK(store->Write("k", ToBytes("value")));
  proxy.delay_ms = 4000;  // idle_timeout is 1 s
  auto start = Clock::now();
  auto read = store->Read("k");
  EXPECT_ERROR_CODE(read, ErrorCode::kIo);
  EXPECT_NE(read.error().message().find("timed out"), std::string::npos) << read.error().message();
  EXPECT_NE(read.error().message().find("s3://faults/p/k"), std::string::npos);
  double seconds = SecondsSince(start);
  EXPECT_GE(seconds, 1.5);  // two attempts of about 1 s each
  EXPECT_LT(seconds, 6.0);
  // A response slower than the previous attempts but within the timeout succeeds.
  proxy.delay_ms = 300;
  ASSERT_OK_AND_ASSIGN(auto value, store->Read("k"));
  EXPECT_EQ(AsStringView(value), "value");
}

// The idle limit counts from the last byte moved either way: a PUT whose
// body went out and whose answer stalls fails after about idle_timeout too
// (libcurl's own low-speed check averaged the upload in and took ~7 s).
TEST_F(S3FaultTest, StalledAnswersToUploadsTimeOutAfterTheIdleLimit) {
  FaultProxy proxy(server_->port());
  S3Options options = Options(proxy.endpoint());
  options.max_retries = 0;
  auto store = Open(options);
  proxy.delay_ms = 6000;  // idle_timeout is 1 s
  auto start = Clock::now();
  Status written = store->Write("big", std::vector<std::byte>(300 << 10, std::byte{7}));
  double seconds = SecondsSince(start);
  EXPECT_ERROR_CODE(written, ErrorCode::kIo);
  EXPECT_NE(written.error().message().find("timed out"), std::string::npos)
      << written.error().message();
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 3.5);
}

TEST_F(S3FaultTest, ServerKilledMidWriteGivesIoErrorWithoutHanging) {
  S3Options options = Options(server_->endpoint());
  options.multipart_threshold = 5 << 20;
  options.part_size = 5 << 20;
  options.max_in_flight = 4;
  auto store = Open(options);
  Bytes value(64 << 20);
  std::mt19937_64 random(1);
  for (auto& b : value) b = static_cast<std::byte>(random());
  std::optional<Status> result;
  auto start = Clock::now();
  std::thread writer([&] {
    for (int i = 0; i < 100 && !(result && !result->has_value()); ++i) {
      result = store->Write("big/" + std::to_string(i), value);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  server_->Kill();
  writer.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_ERROR_CODE(*result, ErrorCode::kIo);
  EXPECT_NE(result->error().message().find("s3://faults/p/big/"), std::string::npos)
      << result->error().message();
  EXPECT_LT(SecondsSince(start), 30.0);
  // Nothing listens any more: every call fails fast with kIo.
  auto read = store->Read("big/0");
  EXPECT_ERROR_CODE(read, ErrorCode::kIo);
  EXPECT_NE(read.error().message().find("request failed"), std::string::npos)
      << read.error().message();
}

TEST_F(S3FaultTest, AppendWriterAbortsWhenTheServerDies) {
  S3Options options = Options(server_->endpoint());
  options.part_size = 5 << 20;
  options.multipart_threshold = 5 << 20;
  auto store = Open(options);
  ASSERT_OK_AND_ASSIGN(auto writer, store->OpenAppend("data"));
  Bytes blob(6 << 20, std::byte{7});
  ASSERT_OK(writer->Append(blob));  // one part sent
  server_->Kill();
  auto start = Clock::now();
  auto append = writer->Append(blob);  // the second part fails
  EXPECT_ERROR_CODE(append, ErrorCode::kIo);
  auto close = writer->Close();
  EXPECT_ERROR_CODE(close, ErrorCode::kIo);
  EXPECT_NE(close.error().message().find("s3://faults/p/data"), std::string::npos);
  EXPECT_LT(SecondsSince(start), 10.0);
}

}  // namespace
}  // namespace stowage::kvstore
