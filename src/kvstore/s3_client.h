// Signed S3 requests with bounded concurrency, retries and typed errors: the
// layer between the S3 store and the HTTP client.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <semaphore>
#include <span>
#include <string>
#include <string_view>

#include "kvstore/s3_config.h"
#include "kvstore/s3_http.h"
#include "stowage/error.h"
#include "stowage/s3.h"

namespace stowage::kvstore::s3 {

// One S3 operation on an object (or on the bucket when `object` is empty).
struct S3Call {
  std::string method;
  std::string object;  // full object key (prefix included), unencoded
  HeaderList query;    // raw names and values
  HeaderList headers;  // extra headers to send and sign (e.g. range)
  std::span<const std::byte> body;
  std::optional<std::span<std::byte>> into;  // see HttpRequest::into
  std::uint64_t max_body = std::numeric_limits<std::uint64_t>::max();
  bool not_found_ok = false;  // a 404 is returned as a response, not an error
};

class S3Client {
 public:
  S3Client(S3Config config, const S3Options& options);

  // Sends `call`, retrying transient failures. Returns the response of a 2xx
  // (or a 404 when call.not_found_ok); otherwise the error, naming the object
  // as s3://bucket/key: kNotFound (404), kDataLoss (416, or a body over
  // max_body), kIo (everything else, with the status and S3 error code).
  Result<HttpResponse> Call(const S3Call& call);

  // "s3://bucket/object".
  std::string Describe(std::string_view object) const;

  const S3Config& config() const { return config_; }

  // Requests sent so far, retries included (for tests).
  std::uint64_t requests_sent() const { return requests_sent_.load(); }

 private:
  HttpRequest BuildRequest(const S3Call& call, std::string_view payload_hash) const;
  HttpResponse Attempt(const S3Call& call, std::string_view payload_hash);
  std::chrono::milliseconds Backoff(int attempt);

  S3Config config_;
  bool sign_payload_;
  int max_retries_;
  std::chrono::milliseconds initial_backoff_;
  std::chrono::milliseconds max_backoff_;
  HttpClient http_;
  std::counting_semaphore<1024> in_flight_;
  std::atomic<std::uint64_t> requests_sent_{0};
};

// The error for a failed `response` to a request on `what` (s3://bucket/key)
// after `attempts` attempts.
Error ResponseError(std::string_view what, const HttpResponse& response, int attempts);

// True when `response` is worth retrying: no response, a timeout, 5xx, 429,
// or S3's RequestTimeout / SlowDown codes.
bool IsRetryable(const HttpResponse& response);

}  // namespace stowage::kvstore::s3
