// AWS Signature Version 4 for S3 requests (header-based authentication),
// with OpenSSL's SHA-256 and HMAC.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stowage::kvstore::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// SHA-256 of the empty string, the payload hash of requests without a body.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::span<const std::byte> data);
std::string Sha256Hex(std::string_view data);

// SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper-case
// hex); '/' is kept when `keep_slash` (object key paths).
std::string UriEncode(std::string_view text, bool keep_slash);

// One request as SigV4 sees it. `path` is already URI-encoded (what is sent);
// `query` holds raw (unencoded) names and values; `headers` hold every header
// to sign, including host, x-amz-date and x-amz-content-sha256.
struct SigV4Request {
  std::string_view method;
  std::string_view path;
  HeaderList query;
  HeaderList headers;
  std::string_view payload_hash;
};

// The canonical request: method, path, sorted encoded query, sorted
// lower-case trimmed headers, signed header names, payload hash.
std::string CanonicalRequest(const SigV4Request& request);

// "host;range;x-amz-date" for `headers`.
std::string SignedHeaderNames(const HeaderList& headers);

// The scope "20130524/us-east-1/s3/aws4_request" of `amz_date`
// ("20130524T000000Z").
std::string CredentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service);

// "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// Lower-case hex signature of `string_to_sign` with the key derived from
// `secret` for the date, region and service.
std::string Signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);

// The Authorization header value for `request` (whose headers include
// x-amz-date = `amz_date`).
std::string AuthorizationHeader(const SigV4Request& request, std::string_view access_key_id,
                                std::string_view secret, std::string_view amz_date,
                                std::string_view region, std::string_view service);

// "20130524T000000Z" for `time` in UTC.
std::string AmzDate(std::chrono::system_clock::time_point time);

}  // namespace stowage::kvstore::s3
