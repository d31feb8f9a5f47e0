// The S3 store: the Store contract mapped onto S3 requests (s3_client.h).
#include "kvstore/s3_store.h"

#include <algorithm>
#include <cstring>
#include <functional>

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
  // A store on the objects under `prefix` of `client`'s bucket.
  S3Store(std::shared_ptr<s3::S3Client> client, std::string_view prefix, const S3Options& options)
      : client_(std::move(client)),
        root_(prefix.empty() ? std::string() : std::string(prefix) + "/"),
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
    return std::unique_ptr<AppendWriter>(
        new s3::S3AppendWriter(*client_, Object(key), part_size_, multipart_threshold_));
  }

  Status Write(std::string_view key, std::span<const std::byte> value, WriteOptions) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    if (value.size() >= multipart_threshold_ && value.size() > part_size_) {
      return s3::UploadMultipart(*client_, Object(key), value, part_size_, parallelism_);
    }
    S3Call call{.method = "PUT", .object = Object(key), .body = value};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client_->Call(call));
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "DELETE", .object = Object(key), .not_found_ok = true};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client_->Call(call));
    return OkStatus();
  }

  Result<bool> Exists(std::string_view key) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "HEAD", .object = Object(key), .not_found_ok = true};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    return response.status != 404;
  }

  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    std::vector<std::string> keys;
    STOWAGE_RETURN_IF_ERROR(ListPages(prefix, "", [&](std::string_view xml) {
      for (std::string& object : s3::XmlElements(xml, "Key")) {
        if (object.starts_with(Object(prefix))) keys.push_back(object.substr(Root().size()));
      }
    }));
    return SortedUnique(std::move(keys));
  }

  Result<std::vector<std::string>> ListChildren(std::string_view dir) const override {
    std::string prefix = FolderPrefix(dir);
    std::string full_prefix = Object(prefix);
    std::vector<std::string> names;
    auto add = [&](std::string_view object) {
      if (!object.starts_with(full_prefix)) return;
      std::string_view name = object.substr(full_prefix.size());
      std::size_t slash = name.find('/');
      if (slash != std::string_view::npos) name = name.substr(0, slash + 1);  // a folder
      if (!name.empty() && name != "/") names.emplace_back(name);
    };
    STOWAGE_RETURN_IF_ERROR(ListPages(prefix, "/", [&](std::string_view xml) {
      for (const std::string& object : s3::XmlElements(xml, "Key")) add(object);
      for (const std::string& common : s3::XmlElements(xml, "Prefix")) add(common);
    }));
    return SortedUnique(std::move(names));
  }

  Result<std::uint64_t> Size(std::string_view key) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    S3Call call{.method = "HEAD", .object = Object(key)};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    return ContentLength(response);
  }

  Result<std::uint64_t> BytesUnder(std::string_view dir, std::uint64_t* values) const override {
    std::string prefix = FolderPrefix(dir);
    std::uint64_t bytes = 0, count = 0;
    STOWAGE_RETURN_IF_ERROR(ListPages(prefix, "", [&](std::string_view xml) {
      for (const std::string& size : s3::XmlElements(xml, "Size")) {
        bytes += std::strtoull(size.c_str(), nullptr, 10);
        ++count;
      }
    }));
    if (values) *values = count;
    return bytes;
  }

  Status DeleteAll(std::string_view dir) override {
    STOWAGE_ASSIGN_OR_RETURN(auto keys, List(FolderPrefix(dir)));
    return s3::ForEachInParallel(keys.size(), parallelism_,
                                 [&](std::size_t i) { return Delete(keys[i]); });
  }

  std::string Describe(std::string_view key) const override {
    return client_->Describe(Object(key));
  }

 private:
  // The store's keys live under "<prefix>/".
  const std::string& Root() const { return root_; }
  std::string Object(std::string_view key) const { return root_ + std::string(key); }

  // Const operations still send requests; the client is internally synchronised.
  s3::S3Client& client() const { return *client_; }

  // Sends ListObjectsV2 for `prefix` (with `delimiter` when not empty) page
  // by page, handing each page's XML to `page`.
  Status ListPages(std::string_view prefix, std::string_view delimiter,
                   const std::function<void(std::string_view)>& page) const {
    std::string token;
    std::size_t pages = 0;
    do {
      S3Call call{.method = "GET",
                  .query = {{"list-type", "2"},
                            {"prefix", Object(prefix)},
                            {"max-keys", std::to_string(list_page_size_)}}};
      if (!delimiter.empty()) call.query.emplace_back("delimiter", std::string(delimiter));
      if (!token.empty()) call.query.emplace_back("continuation-token", token);
      auto response = client().Call(call);
      if (!response) return response.error().WithContext("listing " + Describe(prefix) + "*");
      std::string_view xml = BodyText(*response);
      page(xml);
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
    return OkStatus();
  }

  static std::uint64_t ContentLength(const HttpResponse& response) {
    return std::strtoull(response.Header("content-length").value_or("0").c_str(), nullptr, 10);
  }

  static std::vector<std::string> SortedUnique(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  Result<Bytes> EmptyRange(std::string_view key, std::uint64_t offset) const {
    S3Call call{.method = "HEAD", .object = Object(key)};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client().Call(call));
    std::uint64_t size = ContentLength(response);
    if (offset > size) return RangeError(key, offset, 0, "size " + std::to_string(size));
    return Bytes();
  }

  Error RangeError(std::string_view key, std::uint64_t offset, std::uint64_t length,
                   std::string_view detail) const {
    return DataLossError(Describe(key) + ": cannot read " + std::to_string(length) +
                         " bytes at offset " + std::to_string(offset) +
                         ", past the end of the value (" + std::string(detail) + ")");
  }

  std::shared_ptr<s3::S3Client> client_;
  std::string root_;
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
  std::string prefix = config.prefix;
  auto client = std::make_shared<s3::S3Client>(std::move(config), options);
  return std::unique_ptr<Store>(new S3Store(std::move(client), prefix, options));
}

namespace s3 {

Result<std::unique_ptr<Store>> OpenS3StoreOn(std::shared_ptr<S3Client> client,
                                             std::string_view prefix, const S3Options& options) {
  return std::unique_ptr<Store>(new S3Store(std::move(client), prefix, options));
}

}  // namespace s3

}  // namespace stowage::kvstore
