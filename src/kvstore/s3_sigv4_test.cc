// SigV4 against AWS's published examples: the four S3 examples of "Examples:
// Signature Calculations in AWS Signature Version 4" (GetObject with a
// range, PutObject, GET ?lifecycle, ListObjects) and one case of AWS's SigV4
// test suite (query parameters out of order).
#include "kvstore/s3_sigv4.h"

#include <gtest/gtest.h>

namespace stowage::kvstore::s3 {
namespace {

constexpr std::string_view kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kDate = "20130524T000000Z";
constexpr std::string_view kHost = "examplebucket.s3.amazonaws.com";

std::string SignatureOf(const SigV4Request& request, std::string_view secret = kSecret,
                        std::string_view date = kDate, std::string_view region = "us-east-1",
                        std::string_view service = "s3") {
  std::string to_sign =
      StringToSign(date, CredentialScope(date, region, service), CanonicalRequest(request));
  return Signature(secret, date, region, service, to_sign);
}

TEST(SigV4Test, GetObjectWithRangeMatchesAwsExample) {
  SigV4Request request{"GET",
                       "/test.txt",
                       {},
                       {{"Host", std::string(kHost)},
                        {"Range", "bytes=0-9"},
                        {"x-amz-content-sha256", std::string(kEmptySha256)},
                        {"x-amz-date", std::string(kDate)}},
                       kEmptySha256};
  EXPECT_EQ(CanonicalRequest(request),
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(
      StringToSign(kDate, CredentialScope(kDate, "us-east-1", "s3"), CanonicalRequest(request)),
      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
      "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(SignatureOf(request),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(AuthorizationHeader(request, kAccessKey, kSecret, kDate, "us-east-1", "s3"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, PutObjectMatchesAwsExample) {
  std::string payload_hash = Sha256Hex(std::string_view("Welcome to Amazon S3."));
  EXPECT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  std::string path = "/" + UriEncode("test$file.text", true);
  EXPECT_EQ(path, "/test%24file.text");
  SigV4Request request{"PUT",
                       path,
                       {},
                       {{"Host", std::string(kHost)},
                        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"x-amz-date", std::string(kDate)},
                        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                        {"x-amz-content-sha256", payload_hash}},
                       payload_hash};
  EXPECT_EQ(Sha256Hex(CanonicalRequest(request)),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(SignedHeaderNames(request.headers),
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(SignatureOf(request),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, ValuelessQueryParameterMatchesAwsLifecycleExample) {
  SigV4Request request{"GET",
                       "/",
                       {{"lifecycle", ""}},
                       {{"Host", std::string(kHost)},
                        {"x-amz-date", std::string(kDate)},
                        {"x-amz-content-sha256", std::string(kEmptySha256)}},
                       kEmptySha256};
  EXPECT_TRUE(CanonicalRequest(request).starts_with("GET\n/\nlifecycle=\nhost:"));
  EXPECT_EQ(Sha256Hex(CanonicalRequest(request)),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(SignatureOf(request),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, QueryIsSortedAsInAwsListObjectsExample) {
  SigV4Request request{"GET",
                       "/",
                       {{"prefix", "J"}, {"max-keys", "2"}},
                       {{"Host", std::string(kHost)},
                        {"x-amz-date", std::string(kDate)},
                        {"x-amz-content-sha256", std::string(kEmptySha256)}},
                       kEmptySha256};
  EXPECT_TRUE(CanonicalRequest(request).starts_with("GET\n/\nmax-keys=2&prefix=J\n"));
  EXPECT_EQ(Sha256Hex(CanonicalRequest(request)),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(SignatureOf(request),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, AwsTestSuiteGetVanillaQueryOrderKeyCase) {
  SigV4Request request{"GET",
                       "/",
                       {{"Param2", "value2"}, {"Param1", "value1"}},
                       {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                       kEmptySha256};
  EXPECT_EQ(SignatureOf(request, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z",
                        "us-east-1", "service"),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, UriEncodeKeepsUnreservedAndSlashesOnlyWhenAsked) {
  EXPECT_EQ(UriEncode("a/b c/ü~_.-Z9", true), "a/b%20c/%C3%BC~_.-Z9");
  EXPECT_EQ(UriEncode("a/b+c=d&e", false), "a%2Fb%2Bc%3Dd%26e");
  EXPECT_EQ(UriEncode("*", false), "%2A");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndSpacesFolded) {
  SigV4Request a{"GET", "/k", {}, {{"host", "h"}, {"x-amz-meta-a", "  one   two  "}}, kEmptySha256};
  SigV4Request b{"GET", "/k", {}, {{"HOST", "h"}, {"X-Amz-Meta-A", "one two"}}, kEmptySha256};
  EXPECT_EQ(CanonicalRequest(a), CanonicalRequest(b));
  EXPECT_NE(CanonicalRequest(a).find("x-amz-meta-a:one two\n"), std::string::npos);
}

TEST(SigV4Test, AmzDateIsUtcBasicFormat) {
  auto time = std::chrono::sys_days(std::chrono::year(2013) / 5 / 24) + std::chrono::hours(13) +
              std::chrono::minutes(4) + std::chrono::seconds(5);
  EXPECT_EQ(AmzDate(time), "20130524T130405Z");
}

}  // namespace
}  // namespace stowage::kvstore::s3
