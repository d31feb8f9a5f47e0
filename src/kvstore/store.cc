#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "kvstore/key.h"
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

Result<std::vector<std::string>> Store::ListChildren(std::string_view dir) const {
  std::string prefix = FolderPrefix(dir);
  STOWAGE_ASSIGN_OR_RETURN(auto keys, List(prefix));
  std::vector<std::string> names;
  for (const std::string& key : keys) {
    std::string_view rest = std::string_view(key).substr(prefix.size());
    std::size_t slash = rest.find('/');
    std::string name(slash == std::string_view::npos ? rest : rest.substr(0, slash + 1));
    if (name.empty() || name == "/") continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Status Store::DeleteAll(std::string_view dir) {
  STOWAGE_ASSIGN_OR_RETURN(auto keys, List(FolderPrefix(dir)));
  for (const std::string& key : keys) STOWAGE_RETURN_IF_ERROR(Delete(key));
  return OkStatus();
}

Result<std::uint64_t> Store::Size(std::string_view key) const {
  STOWAGE_ASSIGN_OR_RETURN(auto value, Read(key));
  return value.size();
}

Result<std::uint64_t> Store::BytesUnder(std::string_view dir, std::uint64_t* values) const {
  STOWAGE_ASSIGN_OR_RETURN(auto keys, List(FolderPrefix(dir)));
  std::uint64_t bytes = 0;
  for (const std::string& key : keys) {
    STOWAGE_ASSIGN_OR_RETURN(std::uint64_t size, Size(key));
    bytes += size;
  }
  if (values) *values = keys.size();
  return bytes;
}

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
