// S3 multipart uploads: create, upload parts (concurrently), complete, abort.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "kvstore/s3_client.h"
#include "stowage/error.h"

namespace stowage::kvstore::s3 {

// S3's smallest part (all but the last).
inline constexpr std::uint64_t kMinPartSize = 5 << 20;
// S3's largest part count.
inline constexpr std::uint64_t kMaxParts = 10000;

class MultipartUpload {
 public:
  // Creates an upload of `object` (CreateMultipartUpload).
  static Result<std::unique_ptr<MultipartUpload>> Start(S3Client& client, std::string object);

  // Aborts the upload unless it completed or was aborted.
  ~MultipartUpload();

  // Uploads part `number` (1-based). Thread-safe.
  Status UploadPart(int number, std::span<const std::byte> data);

  // Completes the upload with every part uploaded so far, in order; aborts
  // it on failure.
  Status Complete();

  // Aborts the upload (best effort: S3 also expires abandoned uploads by
  // lifecycle rules).
  void Abort();

 private:
  MultipartUpload(S3Client& client, std::string object, std::string upload_id)
      : client_(client), object_(std::move(object)), upload_id_(std::move(upload_id)) {}

  S3Client& client_;
  std::string object_;
  std::string upload_id_;
  std::mutex mutex_;
  std::map<int, std::string> etags_;  // part number -> ETag
  bool finished_ = false;
};

// Runs task(0) .. task(n - 1) on up to `parallelism` threads; stops starting
// tasks after the first failure, which it returns.
Status ForEachInParallel(std::size_t n, int parallelism,
                         const std::function<Status(std::size_t)>& task);

// Writes `value` to `object` as a multipart upload of `part_size` parts
// (larger when needed to stay within kMaxParts), up to `parallelism` at once;
// aborts the upload on failure.
Status UploadMultipart(S3Client& client, const std::string& object,
                       std::span<const std::byte> value, std::uint64_t part_size, int parallelism);

}  // namespace stowage::kvstore::s3
