#include "kvstore/s3_xml.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "kvstore/s3_config.h"
#include "testutil/testutil.h"

namespace stowage::kvstore::s3 {
namespace {

TEST(S3XmlTest, FindsListObjectsKeysAndToken) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
      "<IsTruncated>true</IsTruncated><Contents><Key>a/x &amp; y</Key><Size>3</Size></Contents>"
      "<Contents>\n  <Key>a/&#x00FC;&#65;&lt;</Key>\n</Contents>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "<KeyCount>2</KeyCount></ListBucketResult>";
  EXPECT_EQ(XmlElements(xml, "Key"), (std::vector<std::string>{"a/x & y",
                                                               "a/\xC3\xBC"
                                                               "A<"}));
  EXPECT_EQ(XmlElement(xml, "IsTruncated"), "true");
  EXPECT_EQ(XmlElement(xml, "NextContinuationToken"),
            "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_EQ(XmlElement(xml, "KeyCount"), "2");  // not confused with <Key>
  EXPECT_EQ(XmlElement(xml, "Missing"), std::nullopt);
}

TEST(S3XmlTest, ErrorsAndOddInputDoNotCrash) {
  std::string error =
      "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
      "<Key>a/b</Key></Error>";
  EXPECT_EQ(XmlElement(error, "Code"), "NoSuchKey");
  EXPECT_EQ(XmlElement(error, "Message"), "The specified key does not exist.");
  EXPECT_EQ(XmlElements("<Key>unterminated", "Key").size(), 0u);
  EXPECT_EQ(XmlElements("<Key/><Key attr=\"1\">v</Key>", "Key"),
            (std::vector<std::string>{"", "v"}));
  EXPECT_EQ(XmlDecode("&bogus; &#xZZ; &amp"), "&bogus; &#xZZ; &amp");
  EXPECT_EQ(XmlElements("<", "Key").size(), 0u);
  EXPECT_EQ(XmlEscape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
}

TEST(S3UrlTest, SplitsBucketAndPrefix) {
  ASSERT_OK_AND_ASSIGN(auto url, ParseS3Url("s3://bucket/a/b/"));
  EXPECT_EQ(url.bucket, "bucket");
  EXPECT_EQ(url.prefix, "a/b");
  ASSERT_OK_AND_ASSIGN(url, ParseS3Url("s3://bucket"));
  EXPECT_EQ(url.bucket, "bucket");
  EXPECT_EQ(url.prefix, "");
  EXPECT_ERROR_CODE(ParseS3Url("s3:///x"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(ParseS3Url("gs://bucket/x"), ErrorCode::kInvalidArgument);
}

TEST(S3ConfigTest, EndpointMustBeSchemeHostPort) {
  ASSERT_OK_AND_ASSIGN(auto endpoint, ParseEndpoint("http://127.0.0.1:9000/"));
  EXPECT_EQ(endpoint.scheme, "http");
  EXPECT_EQ(endpoint.host, "127.0.0.1:9000");
  EXPECT_ERROR_CODE(ParseEndpoint("127.0.0.1:9000"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(ParseEndpoint("ftp://h"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(ParseEndpoint("http://h/path"), ErrorCode::kInvalidArgument);
}

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(S3ConfigTest, EnvironmentSuppliesRegionEndpointAndCredentials) {
  S3Options options{.bucket = "b", .prefix = "/run/1/"};
  ASSERT_OK_AND_ASSIGN(auto config,
                       ResolveS3Config(options, FakeEnv({{"AWS_ACCESS_KEY_ID", "id"},
                                                         {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                         {"AWS_SESSION_TOKEN", "token"},
                                                         {"AWS_REGION", "eu-west-3"}})));
  EXPECT_EQ(config.prefix, "run/1");
  EXPECT_EQ(config.region, "eu-west-3");
  EXPECT_EQ(config.endpoint.scheme, "https");
  EXPECT_EQ(config.endpoint.host, "s3.eu-west-3.amazonaws.com");
  ASSERT_TRUE(config.credentials.has_value());
  EXPECT_EQ(config.credentials->access_key_id, "id");
  EXPECT_EQ(config.credentials->session_token, "token");

  ASSERT_OK_AND_ASSIGN(
      config, ResolveS3Config(options, FakeEnv({{"AWS_ENDPOINT_URL", "http://localhost:9000"},
                                                {"AWS_ACCESS_KEY_ID", "id"},
                                                {"AWS_SECRET_ACCESS_KEY", "s"}})));
  EXPECT_EQ(config.region, "us-east-1");
  EXPECT_EQ(config.endpoint.host, "localhost:9000");
}

TEST(S3ConfigTest, CredentialsFileProfiles) {
  testing::TempDir dir;
  std::string text =
      "# comment\n[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key=SDEFAULT\n\n"
      "[ci]\r\naws_access_key_id=AKCI\r\naws_secret_access_key = SCI\r\naws_session_token = T\r\n"
      "[broken]\naws_access_key_id=only\n";
  { std::ofstream(dir.path() / "credentials") << text; }
  std::string file = (dir.path() / "credentials").string();
  S3Options options{.bucket = "b"};
  ASSERT_OK_AND_ASSIGN(auto config,
                       ResolveS3Config(options, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}})));
  EXPECT_EQ(config.credentials->access_key_id, "AKDEFAULT");
  EXPECT_EQ(config.credentials->secret_access_key, "SDEFAULT");
  ASSERT_OK_AND_ASSIGN(config,
                       ResolveS3Config(options, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file},
                                                         {"AWS_PROFILE", "ci"}})));
  EXPECT_EQ(config.credentials->access_key_id, "AKCI");
  EXPECT_EQ(config.credentials->session_token, "T");
  options.profile = "broken";
  EXPECT_ERROR_CODE(ResolveS3Config(options, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}})),
                    ErrorCode::kInvalidArgument);
  options.profile = "absent";
  auto missing = ResolveS3Config(options, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}}));
  EXPECT_ERROR_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("[absent]"), std::string::npos);
  // HOME locates ~/.aws/credentials.
  std::filesystem::create_directories(dir.path() / ".aws");
  std::filesystem::copy_file(file, dir.path() / ".aws" / "credentials");
  options.profile = "";
  ASSERT_OK_AND_ASSIGN(config, ResolveS3Config(options, FakeEnv({{"HOME", dir.path().string()}})));
  EXPECT_EQ(config.credentials->access_key_id, "AKDEFAULT");
  // Explicit credentials win; anonymous needs none.
  options.credentials = S3Credentials{"x", "y", ""};
  ASSERT_OK_AND_ASSIGN(config, ResolveS3Config(options, FakeEnv({})));
  EXPECT_EQ(config.credentials->access_key_id, "x");
  S3Options anonymous{.bucket = "b", .anonymous = true};
  ASSERT_OK_AND_ASSIGN(config, ResolveS3Config(anonymous, FakeEnv({})));
  EXPECT_FALSE(config.credentials.has_value());
  EXPECT_ERROR_CODE(ResolveS3Config(S3Options{.bucket = "b"}, FakeEnv({})),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(ResolveS3Config(S3Options{.bucket = ""}, FakeEnv({})),
                    ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace stowage::kvstore::s3
