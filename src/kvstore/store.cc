#include <cstring>
#include <mutex>
#include <string>

#include "stowage/kvstore.h"

namespace stowage::kvstore {
namespace {

// Collects the blobs in memory and writes the value on Close: the fallback
// for stores that cannot write at an offset.
class BufferedAppendWriter final : public AppendWriter {
 public:
  BufferedAppendWriter(Store& store, std::string key) : store_(store), key_(std::move(key)) {}

  Result<std::uint64_t> Append(std::span<const std::byte> data) override {
    std::lock_guard lock(mutex_);
    std::uint64_t offset = buffer_.size();
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return offset;
  }

  std::uint64_t size() const override {
    std::lock_guard lock(mutex_);
    return buffer_.size();
  }

  Status Close() override {
    std::lock_guard lock(mutex_);
    return store_.Write(key_, buffer_);
  }

 private:
  Store& store_;
  std::string key_;
  mutable std::mutex mutex_;
  Bytes buffer_;
};

}  // namespace

Status Store::ReadInto(std::string_view key, std::span<std::byte> out) const {
  STOWAGE_ASSIGN_OR_RETURN(auto value, Read(key, ReadOptions{out.size()}));
  if (value.size() != out.size()) {
    return DataLossError(Describe(key) + ": expected " + std::to_string(out.size()) +
                         " bytes, found " + std::to_string(value.size()));
  }
  if (!value.empty()) std::memcpy(out.data(), value.data(), value.size());
  return OkStatus();
}

Result<Bytes> Store::ReadRange(std::string_view key, std::uint64_t offset,
                               std::uint64_t length) const {
  STOWAGE_ASSIGN_OR_RETURN(auto value, Read(key));
  if (offset > value.size() || length > value.size() - offset) {
    return DataLossError(Describe(key) + " holds " + std::to_string(value.size()) +
                         " bytes; cannot read " + std::to_string(length) + " bytes at offset " +
                         std::to_string(offset));
  }
  return Bytes(value.begin() + offset, value.begin() + offset + length);
}

Result<std::unique_ptr<AppendWriter>> Store::OpenAppend(std::string_view key) {
  return std::unique_ptr<AppendWriter>(new BufferedAppendWriter(*this, std::string(key)));
}

}  // namespace stowage::kvstore
