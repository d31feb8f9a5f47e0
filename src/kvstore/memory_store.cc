// The in-memory store: a sorted map under one mutex. Written to be read; it
// is the reference the other stores are tested against.
#include <map>
#include <mutex>

#include "kvstore/key.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore {
namespace {

class MemoryStore final : public Store {
 public:
  Result<Bytes> Read(std::string_view key, ReadOptions options) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mutex_);
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return NotFoundError(Describe(key) + " does not exist");
    if (it->second.size() > options.max_bytes) {
      return DataLossError(Describe(key) + " is larger than the " +
                           std::to_string(options.max_bytes) + " bytes expected");
    }
    return it->second;
  }

  Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                          std::uint64_t length) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mutex_);
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return NotFoundError(Describe(key) + " does not exist");
    const Bytes& value = it->second;
    if (offset > value.size() || length > value.size() - offset) {
      return DataLossError(Describe(key) + " holds " + std::to_string(value.size()) +
                           " bytes; cannot read " + std::to_string(length) + " bytes at offset " +
                           std::to_string(offset));
    }
    return Bytes(value.begin() + offset, value.begin() + offset + length);
  }

  Status Write(std::string_view key, std::span<const std::byte> value, WriteOptions) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mutex_);
    values_[std::string(key)] = Bytes(value.begin(), value.end());
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mutex_);
    values_.erase(std::string(key));
    return OkStatus();
  }

  Result<bool> Exists(std::string_view key) const override {
    STOWAGE_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mutex_);
    return values_.count(std::string(key)) > 0;
  }

  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    for (auto it = values_.lower_bound(std::string(prefix));
         it != values_.end() && it->first.starts_with(prefix); ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }

  std::string Describe(std::string_view key) const override { return "memory:" + std::string(key); }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Bytes, std::less<>> values_;
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

}  // namespace stowage::kvstore
