// stowage layer: kvstore
//
// A Store on the S3 API (AWS S3, MinIO, Ceph, GCS's XML API with HMAC keys),
// over libcurl with AWS Signature Version 4. Key "a/b" of the store is the
// object `<prefix>/a/b` in the bucket. Values at or above the multipart
// threshold, and values built with OpenAppend, are sent as multipart uploads.
// Transient failures (connection errors, timeouts, HTTP 5xx and 429) are
// retried with exponential backoff and full jitter.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "stowage/error.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore {

// An access key pair, plus a session token for temporary credentials.
struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// How the bucket appears in request URLs.
enum class S3Addressing {
  kPathStyle,    // http://endpoint/bucket/key (MinIO, s3rver, most self-hosted servers)
  kVirtualHost,  // http://bucket.endpoint/key (AWS's default)
};

struct S3Options {
  // "http(s)://host[:port]". Empty: env AWS_ENDPOINT_URL_S3, then
  // AWS_ENDPOINT_URL, then https://s3.<region>.amazonaws.com.
  std::string endpoint;
  // Empty: env AWS_REGION, then AWS_DEFAULT_REGION, then "us-east-1".
  std::string region;
  std::string bucket;
  // Objects live under "<prefix>/"; empty for the bucket's root. Leading and
  // trailing '/' are ignored.
  std::string prefix;
  S3Addressing addressing = S3Addressing::kPathStyle;

  // Unset: env AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
  // then the profile `profile` of the shared credentials file
  // (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials).
  std::optional<S3Credentials> credentials;
  // Empty: env AWS_PROFILE, then "default".
  std::string profile;
  // Send unsigned requests (public buckets) instead of looking up credentials.
  bool anonymous = false;
  // Sign the SHA-256 of each body (true) or send UNSIGNED-PAYLOAD (false,
  // saves hashing; HTTPS still protects the body in transit).
  bool sign_payload = true;

  // Requests in flight at once over all callers of one store.
  int max_in_flight = 16;
  // Attempts after the first, for retryable failures.
  int max_retries = 5;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds connect_timeout{10000};
  // A request that moves no bytes, up or down, for this long fails (and is
  // retried); checked about once a second.
  std::chrono::milliseconds idle_timeout{60000};
  // Whole-request limit; zero for none.
  std::chrono::milliseconds request_timeout{0};

  // Write sends values of at least this many bytes as multipart uploads.
  std::uint64_t multipart_threshold = 64 << 20;
  // Size of each part but the last (S3 requires at least 5 MiB).
  std::uint64_t part_size = 16 << 20;
  // Keys per ListObjectsV2 page (S3's maximum is 1000).
  int list_page_size = 1000;
};

// An "s3://bucket/prefix" URL, split.
struct S3Url {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
};

// Splits "s3://bucket[/prefix...]". kInvalidArgument naming the URL when it
// is not of that form or the bucket name is empty.
Result<S3Url> ParseS3Url(std::string_view url);

// A store on `options.bucket`. Fails with kInvalidArgument when the options
// are inconsistent (no bucket, bad endpoint, part size under 5 MiB) or no
// credentials are found; it makes no request, so an unreachable server shows
// up on the first operation.
Result<std::unique_ptr<Store>> OpenS3Store(S3Options options);

}  // namespace stowage::kvstore
