#include "kvstore/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

namespace stowage::kvstore::s3 {
namespace {

constexpr std::size_t kMaxErrorBody = 64 << 10;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using SteadyClock = std::chrono::steady_clock;

// State of one transfer, shared with curl's callbacks.
struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  std::chrono::milliseconds idle_limit;
  std::size_t sent = 0;
  // When bytes last moved either way, and how many had moved by then.
  SteadyClock::time_point last_moved = SteadyClock::now();
  curl_off_t moved = 0;
  bool idle_timed_out = false;
};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::strchr(" \t\r\n", text.front())) text.remove_prefix(1);
  while (!text.empty() && std::strchr(" \t\r\n", text.back())) text.remove_suffix(1);
  return text;
}

// Records the status line and headers; a new status line (after a 100
// Continue or a redirect) starts over.
std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  HttpResponse& response = *transfer.response;
  if (line.starts_with("HTTP/")) {
    std::size_t space = line.find(' ');
    response.status = space == std::string_view::npos ? 0 : std::atol(line.data() + space + 1);
    response.headers.clear();
  } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    response.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                  std::string(Trim(line.substr(colon + 1))));
  }
  return size * count;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  HttpResponse& response = *transfer.response;
  const HttpRequest& request = *transfer.request;
  std::size_t n = size * count;
  auto bytes = std::as_bytes(std::span<const char>(data, n));
  if (response.status < 200 || response.status >= 300) {
    std::size_t keep =
        std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, response.error_body.size()));
    response.error_body.append(data, keep);
    return n;
  }
  std::uint64_t limit = request.into ? request.into->size() : request.max_body;
  if (response.body_bytes + n > limit) {
    response.body_too_large = true;
    return 0;  // aborts the transfer
  }
  if (request.into) {
    std::memcpy(request.into->data() + response.body_bytes, data, n);
  } else {
    if (response.body.empty()) {
      if (auto length = response.Header("content-length")) {
        std::uint64_t expected = std::strtoull(length->c_str(), nullptr, 10);
        if (expected <= limit) response.body.reserve(expected);
      }
    }
    response.body.insert(response.body.end(), bytes.begin(), bytes.end());
  }
  response.body_bytes += n;
  return n;
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  auto body = transfer.request->body;
  std::size_t n = std::min(size * count, body.size() - transfer.sent);
  std::memcpy(buffer, body.data() + transfer.sent, n);
  transfer.sent += n;
  return n;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::uint64_t>(offset) > transfer.request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer.sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Aborts a transfer that moved no byte, up or down, for its idle limit.
// (libcurl's own low-speed check averages over seconds, so a request whose
// answer stalls right after a large upload would run on for that long.)
int OnProgress(void* user, curl_off_t, curl_off_t downloaded, curl_off_t, curl_off_t uploaded) {
  auto& transfer = *static_cast<Transfer*>(user);
  SteadyClock::time_point now = SteadyClock::now();
  if (downloaded + uploaded != transfer.moved) {
    transfer.moved = downloaded + uploaded;
    transfer.last_moved = now;
    return 0;
  }
  if (now - transfer.last_moved < transfer.idle_limit) return 0;
  transfer.idle_timed_out = true;
  return 1;  // aborts with CURLE_ABORTED_BY_CALLBACK
}

curl_slist* HeaderSlist(const HeaderList& headers) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  return list;
}

void SetOptions(CURL* curl, const HttpRequest& request, const HttpTimeouts& timeouts,
                Transfer& transfer, curl_slist* headers, char* error_buffer) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L << 10);
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts.connect.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts.total.count()));
  (void)timeouts.idle;  // enforced by OnProgress (the transfer carries the limit)
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    if (request.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

HttpClient::HttpClient(HttpTimeouts timeouts) : timeouts_(timeouts) { GlobalInit(); }

HttpClient::~HttpClient() {
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpClient::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void HttpClient::Release(void* handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(handle);
}

HttpResponse HttpClient::Perform(const HttpRequest& request) {
  HttpResponse response;
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  curl_easy_reset(curl);  // keeps the connection cache
  Transfer transfer{&request, &response, timeouts_.idle};
  curl_slist* headers = HeaderSlist(request.headers);
  char error_buffer[CURL_ERROR_SIZE] = {};
  SetOptions(curl, request, timeouts_, transfer, headers, error_buffer);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    if (!response.body_too_large) {
      response.transport_error =
          transfer.idle_timed_out
              ? "no bytes moved for " + std::to_string(timeouts_.idle.count()) + " ms"
          : error_buffer[0] != '\0' ? std::string(error_buffer)
                                    : curl_easy_strerror(code);
      response.timed_out = code == CURLE_OPERATION_TIMEDOUT || transfer.idle_timed_out;
      response.status = 0;
    }
  }
  Release(curl);
  return response;
}

}  // namespace stowage::kvstore::s3
