// The AppendWriter of the S3 store: blobs are buffered until the value
// reaches the multipart threshold, then sent as parts of a multipart upload
// (the first holding everything buffered so far, the next ones a part's
// worth each); Close sends the rest and completes the upload, or sends one
// PUT when the value stayed under the threshold. A failure, or destruction before Close, aborts the
// upload, so a half-written value never appears.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kvstore/s3_client.h"
#include "kvstore/s3_multipart.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore::s3 {

class S3AppendWriter final : public AppendWriter {
 public:
  S3AppendWriter(S3Client& client, std::string object, std::uint64_t part_size,
                 std::uint64_t multipart_threshold);
  ~S3AppendWriter() override;

  Result<std::uint64_t> Append(std::span<const std::byte> data) override;
  std::uint64_t size() const override;
  Status Close() override;

 private:
  // Sends `part` as part `number`, starting the upload first if needed.
  Status SendPart(int number, const Bytes& part);
  // Records the first failure; returns it.
  Error Fail(Error error);

  S3Client& client_;
  std::string object_;
  std::uint64_t part_size_;
  std::uint64_t first_part_size_;  // the multipart threshold, at least a part

  mutable std::mutex mutex_;
  std::condition_variable parts_done_;
  Bytes buffer_;
  std::uint64_t size_ = 0;
  int parts_cut_ = 0;
  int parts_in_flight_ = 0;
  bool closed_ = false;
  std::optional<Error> failure_;

  std::mutex start_mutex_;  // guards upload_ creation
  std::unique_ptr<MultipartUpload> upload_;
};

}  // namespace stowage::kvstore::s3
