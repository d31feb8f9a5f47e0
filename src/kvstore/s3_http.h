// A small blocking HTTP client over libcurl for the S3 store: one request per
// call, on easy handles kept in a pool so that connections are reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kvstore/s3_sigv4.h"
#include "stowage/bytes.h"

namespace stowage::kvstore::s3 {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  HeaderList headers;               // sent as given, after curl's own (Host here replaces curl's)
  std::span<const std::byte> body;  // sent for PUT and POST
  // Where a 2xx body goes: into this buffer when set (a longer body fails
  // the transfer with HttpResponse::body_too_large), else HttpResponse::body.
  std::optional<std::span<std::byte>> into;
  // A 2xx body longer than this fails with body_too_large.
  std::uint64_t max_body = std::numeric_limits<std::uint64_t>::max();
};

struct HttpResponse {
  long status = 0;               // 0 when no complete response arrived
  std::string transport_error;   // curl's description of a failed transfer, else empty
  bool timed_out = false;        // the failure was a timeout
  bool body_too_large = false;   // the 2xx body exceeded max_body or `into`
  HeaderList headers;            // lower-case names
  Bytes body;                    // 2xx body when the request had no `into`
  std::uint64_t body_bytes = 0;  // 2xx body bytes received
  std::string error_body;        // non-2xx body (the first 64 KiB)

  // The value of header `name` (lower-case), if present.
  std::optional<std::string> Header(std::string_view name) const;
  bool ok() const {
    return transport_error.empty() && !body_too_large && status >= 200 && status < 300;
  }
};

struct HttpTimeouts {
  std::chrono::milliseconds connect{10000};
  std::chrono::milliseconds idle{60000};  // no bytes moved for this long
  std::chrono::milliseconds total{0};     // 0: none
};

// Thread-safe: each call takes an idle easy handle (or makes one).
class HttpClient {
 public:
  explicit HttpClient(HttpTimeouts timeouts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs `request`; never throws. Transport failures are reported in
  // the response (status 0 or transport_error), not as errors.
  HttpResponse Perform(const HttpRequest& request);

 private:
  void* Acquire();
  void Release(void* handle);

  HttpTimeouts timeouts_;
  std::mutex mutex_;
  std::vector<void*> idle_;
};

}  // namespace stowage::kvstore::s3
