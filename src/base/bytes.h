// Byte buffers shared by every layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/bytes.h"

namespace stowage {

// The machine's physical memory in bytes: the default bound on what a
// restore may allocate.
std::uint64_t PhysicalMemoryBytes();

inline std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

inline Bytes ToBytes(std::string_view text) {
  auto span = AsBytes(text);
  return Bytes(span.begin(), span.end());
}

inline std::string_view AsStringView(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace stowage
