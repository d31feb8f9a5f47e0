#include "kvstore/s3_append_writer.h"

#include <algorithm>
#include <utility>

namespace stowage::kvstore::s3 {

S3AppendWriter::S3AppendWriter(S3Client& client, std::string object, std::uint64_t part_size,
                               std::uint64_t multipart_threshold)
    : client_(client),
      object_(std::move(object)),
      part_size_(part_size),
      first_part_size_(std::max(part_size, multipart_threshold)) {}

S3AppendWriter::~S3AppendWriter() {
  std::unique_lock lock(mutex_);
  parts_done_.wait(lock, [&] { return parts_in_flight_ == 0; });
  std::lock_guard start_lock(start_mutex_);
  if (upload_ && !closed_) upload_->Abort();
}

Error S3AppendWriter::Fail(Error error) {
  std::lock_guard lock(mutex_);
  if (!failure_) failure_ = error;
  return error;
}

Status S3AppendWriter::SendPart(int number, const Bytes& part) {
  {
    std::lock_guard start_lock(start_mutex_);
    if (!upload_) {
      STOWAGE_ASSIGN_OR_RETURN(upload_, MultipartUpload::Start(client_, object_));
    }
  }
  return upload_->UploadPart(number, part);
}

Result<std::uint64_t> S3AppendWriter::Append(std::span<const std::byte> data) {
  std::unique_lock lock(mutex_);
  if (closed_) return InvalidArgumentError(client_.Describe(object_) + ": append after Close");
  if (failure_) return *failure_;
  std::uint64_t offset = size_;
  size_ += data.size();
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  // Parts grow by part_size every 1000 parts, so S3's 10 000-part limit allows
  // 55 000 part sizes (860 GiB at 16 MiB).
  std::uint64_t cut_at = parts_cut_ == 0 ? first_part_size_ : part_size_ * (1 + parts_cut_ / 1000);
  if (buffer_.size() < cut_at) return offset;
  Bytes part = std::exchange(buffer_, Bytes());
  int number = ++parts_cut_;
  ++parts_in_flight_;
  lock.unlock();
  Status status = SendPart(number, part);
  lock.lock();
  --parts_in_flight_;
  parts_done_.notify_all();
  if (!status) {
    if (!failure_) failure_ = status.error();
    return status.error();
  }
  return offset;
}

std::uint64_t S3AppendWriter::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

Status S3AppendWriter::Close() {
  std::unique_lock lock(mutex_);
  if (closed_) return InvalidArgumentError(client_.Describe(object_) + ": closed twice");
  parts_done_.wait(lock, [&] { return parts_in_flight_ == 0; });
  closed_ = true;
  std::lock_guard start_lock(start_mutex_);
  if (failure_) {
    if (upload_) upload_->Abort();
    return *failure_;
  }
  if (!upload_) {  // smaller than a part: one PUT
    S3Call call{.method = "PUT", .object = object_, .body = buffer_};
    STOWAGE_ASSIGN_OR_RETURN(auto response, client_.Call(call));
    return OkStatus();
  }
  if (!buffer_.empty()) {
    Status status = upload_->UploadPart(parts_cut_ + 1, buffer_);
    if (!status) {
      upload_->Abort();
      return status;
    }
  }
  return upload_->Complete();
}

}  // namespace stowage::kvstore::s3
