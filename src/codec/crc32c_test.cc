#include "codec/crc32c.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace stowage::codec {
namespace {

std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(Crc32cTest, CheckValueOfTheCatalogue) {
  // The standard check value (CRC catalogue, "CRC-32/ISCSI").
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c({}), 0u);
}

TEST(Crc32cTest, ShardIndexOfTheOrbaxFixture) {
  // tensorstore-formats.md B5: index entry (offset 0, length 41) of the
  // v1 fixture's `a/c/0` has CRC-32C 0x4477868e.
  std::vector<std::byte> index(16, std::byte{0});
  index[8] = std::byte{41};
  EXPECT_EQ(Crc32c(index), 0x4477868eu);
}

TEST(Crc32cTest, ContinuesAcrossPieces) {
  std::string_view text = "The quick brown fox jumps over the lazy dog";
  std::uint32_t whole = Crc32c(AsBytes(text));
  EXPECT_EQ(Crc32c(AsBytes(text.substr(10)), Crc32c(AsBytes(text.substr(0, 10)))), whole);
  EXPECT_EQ(whole, 0x22620404u);
}

}  // namespace
}  // namespace stowage::codec
