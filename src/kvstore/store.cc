#include <cstring>
#include <string>

#include "stowage/kvstore.h"

namespace stowage::kvstore {

Status Store::ReadInto(std::string_view key, std::span<std::byte> out) const {
  STOWAGE_ASSIGN_OR_RETURN(auto value, Read(key, ReadOptions{out.size()}));
  if (value.size() != out.size()) {
    return DataLossError(Describe(key) + ": expected " + std::to_string(out.size()) +
                         " bytes, found " + std::to_string(value.size()));
  }
  if (!value.empty()) std::memcpy(out.data(), value.data(), value.size());
  return OkStatus();
}

}  // namespace stowage::kvstore
