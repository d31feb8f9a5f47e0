// The S3 store: the Store contract mapped onto S3 requests (s3_client.h).
#include <algorithm>
#include <cstring>

#include "kvstore/key.h"
#include "kvstore/s3_append_writer.h"
#include "kvstore/s3_client.h"
#include "kvstore/s3_config.h"
#include "kvstore/s3_multipart.h"
#include "kvstore/s3_xml.h"
#include "stowage/s3.h"

namespace stowage::kvstore {
namespace {

// At most this many ListObjectsV2 pages (a billion keys at 1000 per page).
constexpr std::size_t kMaxListPages = 1'000'000;

using s3::HttpResponse;
using s3::S3Call;

std::string_view BodyText(const HttpResponse& response) {
  return {reinterpret_cast<const char*>(response.body.data()), response.body.size()};
}

class S3Store final : public Store {
 public:
  S3Store(s3::S3Config config, const S3Options& options)
      : client_(std::move(config), options),
        multipart_threshold_(std::max(options.multipart_threshold, std::uint64_t{1})),
        part_size_(options.part_size),
        parallelism_(std::max(1, options.max_in_flight)),
        list_page_size_(std::clamp(options.list_page_size, 1, 1000)) {}

  Result<Bytes> Read(std::string_view key, ReadOptions options) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "GET", .object = Object(key), .max_body = options.max_bytes};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    return std::move(response.body);
  }

  Status ReadInto(std::string_view key, std::span<std::byte> out) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "GET", .object = Object(key), .into = out};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    if (response.body_bytes != out.size()) {
      return DataLossError(Describe(key) + ": expected " + std::to_string(out.size()) +
                           " bytes, found " + std::to_string(response.body_bytes));
    }
    return OkStatus();
  }

  Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                          std::uint64_t length) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    if (length == 0) return EmptyRange(key, offset);
    Bytes out(length);
    std::string range =
        "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
    S3Call call{.method = "GET",
                .object = Object(key),
                .headers = {{"range", range}},
                .into = std::span(out)};
    auto response = client().Call(call);
    if (!response && response.error().code() == ErrorCode::kDataLoss) {
      return RangeError(key, offset, length, response.error().message());
    }
    STOWAGE_RETURN_IF_ERROR(response);
    if (response->body_bytes != length) {
      return RangeError(key, offset, length, response->Header("content-range").value_or(""));
    }
    return out;
  }

  Result<std::unique_ptr<AppendWriter>> OpenAppend(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    return std::unique_ptr<AppendWriter>(new s3::S3AppendWriter(client_, Object(key), part_size_));
  }

  Status Write(std::string_view key, std::span<const std::byte> value, WriteOptions) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    if (value.size() >= multipart_threshold_ && value.size() > part_size_) {
      return s3::UploadMultipart(client_, Object(key), value, part_size_, parallelism_);
    }
    S3Call call{.method = "PUT", .object = Object(key), .body = value};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client_.Call(call));
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "DELETE", .object = Object(key), .not_found_ok = true};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client_.Call(call));
    return OkStatus();
  }

  Result<bool> Exists(std::string_view key) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "HEAD", .object = Object(key), .not_found_ok = true};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    return response.status != 404;
  }

  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    std::string full_prefix = Object(prefix);
    std::vector<std::string> keys;
    std::string token;
    std::size_t pages = 0;
    do {
      S3Call call{.method = "GET",
                  .query = {{"list-type", "2"},
                            {"prefix", full_prefix},
                            {"max-keys", std::to_string(list_page_size_)}}};
      if (!token.empty()) call.query.emplace_back("continuation-token", token);
      auto response = client().Call(call);
      if (!response) return response.error().WithContext("listing " + Describe(prefix) + "*");
      std::string_view xml = BodyText(*response);
      for (std::string& object : s3::XmlElements(xml, "Key")) {
        if (object.starts_with(full_prefix)) keys.push_back(object.substr(Root().size()));
      }
      std::string previous = std::move(token);
      token.clear();
      if (s3::XmlElement(xml, "IsTruncated").value_or("false") == "true") {
        token = s3::XmlElement(xml, "NextContinuationToken").value_or("");
        if (token.empty() || token == previous || ++pages > kMaxListPages) {
          // A server that never ends the listing must not loop forever.
          return IoError("listing " + Describe(prefix) + "*: truncated page " +
                         (token.empty() ? "without a NextContinuationToken"
                                        : "repeating its continuation token, or too many pages"));
        }
      }
    } while (!token.empty());
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  std::string Describe(std::string_view key) const override {
    return client_.Describe(Object(key));
  }

 private:
  // The store's keys live under "<prefix>/".
  std::string Root() const {
    const std::string& prefix = client_.config().prefix;
    return prefix.empty() ? "" : prefix + "/";
  }
  std::string Object(std::string_view key) const { return Root() + std::string(key); }

  // Const operations still send requests; the client is internally synchronised.
  s3::S3Client& client() const { return client_; }

  Result<Bytes> EmptyRange(std::string_view key, std::uint64_t offset) const {
    S3Call call{.method = "HEAD", .object = Object(key)};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    std::uint64_t size =
        std::strtoull(response.Header("content-length").value_or("0").c_str(), nullptr, 10);
    if (offset > size) return RangeError(key, offset, 0, "size " + std::to_string(size));
    return Bytes();
  }

  Error RangeError(std::string_view key, std::uint64_t offset, std::uint64_t length,
                   std::string_view detail) const {
    return DataLossError(Describe(key) + ": cannot read " + std::to_string(length) +
                         " bytes at offset " + std::to_string(offset) +
                         ", past the end of the value (" + std::string(detail) + ")");
  }

  mutable s3::S3Client client_;
  std::uint64_t multipart_threshold_;
  std::uint64_t part_size_;
  int parallelism_;
  int list_page_size_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenS3Store(S3Options options) {
  if (options.part_size < s3::kMinPartSize) {
    return InvalidArgumentError("S3 part_size " + std::to_string(options.part_size) +
                                " is under S3's minimum of 5 MiB");
  }
  STOWAGE_ASSIGN_OR_RETURN(auto config, s3::ResolveS3Config(options, s3::ProcessEnv));
  return std::unique_ptr<Store>(new S3Store(std::move(config), options));
}

}  // namespace stowage::kvstore
