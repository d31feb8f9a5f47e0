#include "kvstore/s3_client.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "kvstore/s3_xml.h"

namespace stowage::kvstore::s3 {
namespace {

std::string ErrorCodeOf(const HttpResponse& response) {
  return XmlElement(response.error_body, "Code").value_or("");
}

std::string Detail(const HttpResponse& response) {
  std::string detail = "HTTP " + std::to_string(response.status);
  std::string code = ErrorCodeOf(response);
  if (!code.empty()) detail += " " + code;
  auto message = XmlElement(response.error_body, "Message");
  if (message && !message->empty()) detail += ": " + *message;
  return detail;
}

std::string Attempts(int attempts) {
  return attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
}

std::string QueryString(const HeaderList& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    out += out.empty() ? '?' : '&';
    out += UriEncode(name, false) + '=' + UriEncode(value, false);
  }
  return out;
}

}  // namespace

Error ResponseError(std::string_view what, const HttpResponse& response, int attempts) {
  std::string name(what);
  if (!response.transport_error.empty()) {
    return IoError(name + ": " + (response.timed_out ? "timed out: " : "request failed: ") +
                   response.transport_error + Attempts(attempts));
  }
  switch (response.status) {
    case 404:
      return NotFoundError(name + " does not exist (" + Detail(response) + ")");
    case 403:
      return IoError(name + ": permission denied (" + Detail(response) + ")");
    case 416:
      return DataLossError(name + ": range not satisfiable (" + Detail(response) + ")");
    default:
      return IoError(name + ": " + Detail(response) + Attempts(attempts));
  }
}

bool IsRetryable(const HttpResponse& response) {
  if (response.body_too_large) return false;
  if (!response.transport_error.empty() || response.status == 0) return true;
  if (response.status >= 500 || response.status == 429) return true;
  std::string code = ErrorCodeOf(response);
  return code == "RequestTimeout" || code == "SlowDown";
}

S3Client::S3Client(S3Config config, const S3Options& options)
    : config_(std::move(config)),
      sign_payload_(options.sign_payload),
      max_retries_(std::max(0, options.max_retries)),
      initial_backoff_(options.initial_backoff),
      max_backoff_(options.max_backoff),
      http_(HttpTimeouts{options.connect_timeout, options.idle_timeout, options.request_timeout}),
      in_flight_(std::clamp(options.max_in_flight, 1, 1024)) {}

std::string S3Client::Describe(std::string_view object) const {
  return "s3://" + config_.bucket + "/" + std::string(object);
}

HttpRequest S3Client::BuildRequest(const S3Call& call, std::string_view payload_hash) const {
  bool virtual_host = config_.addressing == S3Addressing::kVirtualHost;
  std::string host =
      virtual_host ? config_.bucket + "." + config_.endpoint.host : config_.endpoint.host;
  std::string path = "/" + UriEncode(call.object, true);
  if (!virtual_host) {
    path = "/" + UriEncode(config_.bucket, false) + (call.object.empty() ? "" : path);
  }
  HttpRequest request;
  request.method = call.method;
  request.url = config_.endpoint.scheme + "://" + host + path + QueryString(call.query);
  request.body = call.body;
  request.into = call.into;
  request.max_body = call.max_body;
  request.headers = call.headers;
  request.headers.emplace_back("host", host);
  if (!config_.credentials) return request;
  std::string date = AmzDate(std::chrono::system_clock::now());
  request.headers.emplace_back("x-amz-date", date);
  request.headers.emplace_back("x-amz-content-sha256", std::string(payload_hash));
  const S3Credentials& credentials = *config_.credentials;
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  SigV4Request to_sign{call.method, path, call.query, request.headers, payload_hash};
  request.headers.emplace_back(
      "authorization",
      AuthorizationHeader(to_sign, credentials.access_key_id, credentials.secret_access_key, date,
                          config_.region, "s3"));
  return request;
}

HttpResponse S3Client::Attempt(const S3Call& call, std::string_view payload_hash) {
  HttpRequest request = BuildRequest(call, payload_hash);
  in_flight_.acquire();
  requests_sent_.fetch_add(1);
  HttpResponse response = http_.Perform(request);
  in_flight_.release();
  return response;
}

std::chrono::milliseconds S3Client::Backoff(int attempt) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  auto cap = std::min<std::int64_t>(max_backoff_.count(), initial_backoff_.count()
                                                              << std::min(attempt, 20));
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(cap, 0));
  return std::chrono::milliseconds(jitter(random));  // "full jitter"
}

Result<HttpResponse> S3Client::Call(const S3Call& call) {
  std::string payload_hash(call.body.empty() || !sign_payload_ ? "" : Sha256Hex(call.body));
  if (payload_hash.empty()) {
    payload_hash = sign_payload_ ? std::string(kEmptySha256) : "UNSIGNED-PAYLOAD";
  }
  for (int attempt = 0;; ++attempt) {
    HttpResponse response = Attempt(call, payload_hash);
    if (response.ok() ||
        (call.not_found_ok && response.status == 404 && response.transport_error.empty())) {
      return response;
    }
    if (response.body_too_large) {
      return DataLossError(Describe(call.object) + " is larger than the " +
                           std::to_string(call.into ? call.into->size() : call.max_body) +
                           " bytes expected");
    }
    if (!IsRetryable(response) || attempt >= max_retries_) {
      return ResponseError(Describe(call.object), response, attempt + 1);
    }
    std::this_thread::sleep_for(Backoff(attempt));
  }
}

}  // namespace stowage::kvstore::s3
