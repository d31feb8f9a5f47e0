#include "kvstore/s3_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <ctime>

namespace stowage::kvstore::s3 {
namespace {

using Digest = std::array<unsigned char, 32>;

std::string Hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Digest Hmac(std::span<const unsigned char> key, std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Trims and folds runs of spaces into one, as SigV4's canonical headers do.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  for (char c : Trim(value)) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

HeaderList SortedHeaders(const HeaderList& headers) {
  HeaderList sorted;
  for (const auto& [name, value] : headers) {
    sorted.emplace_back(Lower(name), CanonicalHeaderValue(value));
  }
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

std::string CanonicalQuery(const HeaderList& query) {
  HeaderList encoded;
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + '=' + value;
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::span<const std::byte> data) {
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return Hex(digest);
}

std::string Sha256Hex(std::string_view data) {
  return Sha256Hex(std::as_bytes(std::span<const char>(data.data(), data.size())));
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string SignedHeaderNames(const HeaderList& headers) {
  std::string out;
  for (const auto& [name, value] : SortedHeaders(headers)) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& request) {
  std::string out;
  out += std::string(request.method) + '\n';
  out += std::string(request.path.empty() ? "/" : request.path) + '\n';
  out += CanonicalQuery(request.query) + '\n';
  for (const auto& [name, value] : SortedHeaders(request.headers)) {
    out += name + ':' + value + '\n';
  }
  out += '\n';
  out += SignedHeaderNames(request.headers) + '\n';
  out += request.payload_hash;
  return out;
}

std::string CredentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service) {
  return std::string(amz_date.substr(0, 8)) + '/' + std::string(region) + '/' +
         std::string(service) + "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + '\n' + std::string(scope) + '\n' +
         Sha256Hex(canonical_request);
}

std::string Signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  std::string first_key = "AWS4" + std::string(secret);
  auto as_key = [](const std::string& s) {
    return std::span(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  Digest key = Hmac(as_key(first_key), amz_date.substr(0, 8));
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  return Hex(Hmac(key, string_to_sign));
}

std::string AuthorizationHeader(const SigV4Request& request, std::string_view access_key_id,
                                std::string_view secret, std::string_view amz_date,
                                std::string_view region, std::string_view service) {
  std::string scope = CredentialScope(amz_date, region, service);
  std::string to_sign = StringToSign(amz_date, scope, CanonicalRequest(request));
  return "AWS4-HMAC-SHA256 Credential=" + std::string(access_key_id) + '/' + scope +
         ",SignedHeaders=" + SignedHeaderNames(request.headers) +
         ",Signature=" + Signature(secret, amz_date, region, service, to_sign);
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

}  // namespace stowage::kvstore::s3
