// Helpers shared by the libFuzzer targets in fuzz/: reading parameters from
// the front of a fuzzer's input, and checking invariants so that a silently
// wrong result crashes like a memory error does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"

namespace stowage::fuzz {

// Consumes a fuzzer's input front to back. Past the end every read yields
// zeros, so any input is usable.
class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : bytes_(reinterpret_cast<const std::byte*>(data), size) {}

  // The next byte, or 0 past the end.
  std::uint8_t Byte() {
    if (position_ >= bytes_.size()) return 0;
    return static_cast<std::uint8_t>(bytes_[position_++]);
  }

  // The next `n` bytes (n <= 8) as a little-endian integer.
  std::uint64_t LittleEndian(int n) {
    std::uint64_t value = 0;
    for (int i = 0; i < n; ++i) value |= std::uint64_t{Byte()} << (8 * i);
    return value;
  }

  // Everything not consumed yet.
  std::span<const std::byte> Rest() const {
    return bytes_.subspan(std::min(position_, bytes_.size()));
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t position_ = 0;
};

// Aborts, naming the broken invariant, when `ok` is false.
inline void Check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

// One input of a fuzzer's seed corpus, and the file name it is kept under.
struct Seed {
  std::string name;
  Bytes bytes;
};

// The seed corpus of this fuzzer (every *_fuzzer.cc defines it), made with
// stowage's own encoders; seed_writer.cc writes it to fuzz/corpus/<name>/.
std::vector<Seed> Seeds();

// A seed of `prefix` (parameter bytes) followed by `body`.
inline Seed MakeSeed(std::string name, std::initializer_list<std::uint8_t> prefix,
                     std::span<const std::byte> body) {
  Seed seed{std::move(name), {}};
  for (std::uint8_t b : prefix) seed.bytes.push_back(std::byte{b});
  seed.bytes.insert(seed.bytes.end(), body.begin(), body.end());
  return seed;
}

// `size` bytes of compressible sample data (runs of small values).
inline Bytes SampleData(std::size_t size) {
  Bytes data(size);
  for (std::size_t i = 0; i < size; ++i) data[i] = std::byte((i / 3) % 17);
  return data;
}

// The seed `text` (a JSON file, say) as is.
inline Seed TextSeed(std::string name, std::string_view text) {
  return MakeSeed(std::move(name), {}, AsBytes(text));
}

}  // namespace stowage::fuzz
