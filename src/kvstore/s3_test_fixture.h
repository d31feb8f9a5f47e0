// The GoogleTest fixture of suites that share one s3rver (s3_test_server.h).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "kvstore/s3_test_server.h"

namespace stowage::kvstore::s3_testing {

// A fixture whose suite shares one s3rver: the derived suite's
// SetUpTestSuite calls StartSharedServer(bucket). Without a server each test
// is skipped, or fails when S3rverRequired(); derived SetUps call this one
// first and return when server_ is null.
class SharedS3rverTest : public ::testing::Test {
 protected:
  static void StartSharedServer(const std::string& bucket) {
    server_ = S3rver::Start(bucket, &why_not_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (server_ != nullptr) return;
    if (S3rverRequired()) FAIL() << why_not_;
    GTEST_SKIP() << why_not_;
  }

  static inline S3rver* server_ = nullptr;
  static inline std::string why_not_;
};

}  // namespace stowage::kvstore::s3_testing
