#include "kvstore/s3_multipart.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "kvstore/s3_xml.h"

namespace stowage::kvstore::s3 {

Result<std::unique_ptr<MultipartUpload>> MultipartUpload::Start(S3Client& client,
                                                                std::string object) {
  S3Call call{.method = "POST", .object = object, .query = {{"uploads", ""}}};
  STOWAGE_ASSIGN_OR_RETURN(auto response, client.Call(call));
  std::string_view xml(reinterpret_cast<const char*>(response.body.data()), response.body.size());
  auto upload_id = XmlElement(xml, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return IoError(client.Describe(object) + ": CreateMultipartUpload returned no UploadId");
  }
  return std::unique_ptr<MultipartUpload>(
      new MultipartUpload(client, std::move(object), std::move(*upload_id)));
}

MultipartUpload::~MultipartUpload() { Abort(); }

Status MultipartUpload::UploadPart(int number, std::span<const std::byte> data) {
  S3Call call{.method = "PUT",
              .object = object_,
              .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}},
              .body = data};
  STOWAGE_ASSIGN_OR_RETURN(auto response, client_.Call(call));
  auto etag = response.Header("etag");
  if (!etag) {
    return IoError(client_.Describe(object_) + ": part " + std::to_string(number) +
                   " upload returned no ETag");
  }
  std::lock_guard lock(mutex_);
  etags_[number] = *etag;
  return OkStatus();
}

Status MultipartUpload::Complete() {
  std::string xml = "<CompleteMultipartUpload>";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [number, etag] : etags_) {
      xml += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
             XmlEscape(etag) + "</ETag></Part>";
    }
  }
  xml += "</CompleteMultipartUpload>";
  S3Call call{.method = "POST",
              .object = object_,
              .query = {{"uploadId", upload_id_}},
              .body = std::as_bytes(std::span(xml.data(), xml.size()))};
  auto response = client_.Call(call);
  if (!response) {
    Abort();
    return response.error();
  }
  // S3 may answer 200 and report a failure in the body.
  std::string_view body(reinterpret_cast<const char*>(response->body.data()),
                        response->body.size());
  if (auto code = XmlElement(body, "Code"); code && body.find("<Error") != std::string_view::npos) {
    Abort();
    return IoError(client_.Describe(object_) + ": CompleteMultipartUpload failed: " + *code + " " +
                   XmlElement(body, "Message").value_or(""));
  }
  std::lock_guard lock(mutex_);
  finished_ = true;
  return OkStatus();
}

void MultipartUpload::Abort() {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
  }
  S3Call call{.method = "DELETE",
              .object = object_,
              .query = {{"uploadId", upload_id_}},
              .not_found_ok = true};
  (void)client_.Call(call);
}

Status ForEachInParallel(std::size_t n, int parallelism,
                         const std::function<Status(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::optional<Error> failure;
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      {
        std::lock_guard lock(mutex);
        if (failure) return;
      }
      Status status = task(i);
      if (!status) {
        std::lock_guard lock(mutex);
        if (!failure) failure = status.error();
      }
    }
  };
  std::size_t threads = std::min<std::size_t>(n, std::max(1, parallelism));
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(worker);
    worker();
  }
  if (failure) return *failure;
  return OkStatus();
}

Status UploadMultipart(S3Client& client, const std::string& object,
                       std::span<const std::byte> value, std::uint64_t part_size, int parallelism) {
  STOWAGE_ASSIGN_OR_RETURN(auto upload, MultipartUpload::Start(client, object));
  part_size = std::max(part_size, (value.size() + kMaxParts - 1) / kMaxParts);
  std::size_t parts = std::max<std::size_t>(1, (value.size() + part_size - 1) / part_size);
  Status uploaded = ForEachInParallel(parts, parallelism, [&](std::size_t i) {
    std::size_t begin = i * part_size;
    std::size_t length = std::min<std::size_t>(part_size, value.size() - begin);
    return upload->UploadPart(static_cast<int>(i + 1), value.subspan(begin, length));
  });
  if (!uploaded) {
    upload->Abort();
    return uploaded;
  }
  return upload->Complete();
}

}  // namespace stowage::kvstore::s3
