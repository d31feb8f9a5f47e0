// Fuzzes the `_METADATA` parser of PyTree checkpoints
// (tree::ParseTreeMetadata). Invariant: a parsed `_METADATA` re-encodes
// (as Orbax writes it) to text that parses back to the same encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "tree/tree_metadata.h"

using namespace stowage;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto metadata = tree::ParseTreeMetadata(std::as_bytes(std::span(data, size)), "_METADATA");
  if (!metadata) return 0;
  std::string encoded = tree::EncodeTreeMetadata(*metadata);
  auto again = tree::ParseTreeMetadata(AsBytes(encoded), "re-encoded _METADATA");
  fuzz::Check(again.has_value(), "a parsed _METADATA re-encodes to one that parses");
  fuzz::Check(tree::EncodeTreeMetadata(*again) == encoded, "_METADATA re-encodes the same");
  fuzz::Check(again->entries.size() == metadata->entries.size(), "_METADATA keeps its entries");
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  using tree::KeyType;
  tree::TreeMetadata m;
  m.entries.push_back({{{"params", KeyType::kDict}, {"w", KeyType::kDict}},
                       {std::string(tree::kNumpyTypestr), false, std::nullopt}});
  m.entries.push_back({{{"opt_state", KeyType::kDict}, {"0", KeyType::kSequence}},
                       {std::string(tree::kScalarTypestr), false, std::nullopt}});
  m.entries.push_back(
      {{{"x", KeyType::kDict}}, {std::string(tree::kJaxArrayTypestr), false, Shape{4, 2}}});
  m.entries.push_back(
      {{{"name", KeyType::kDict}}, {std::string(tree::kStringTypestr), true, std::nullopt}});
  std::vector<fuzz::Seed> seeds;
  seeds.push_back(fuzz::TextSeed("old_file", tree::EncodeTreeMetadata(m)));
  m.use_ocdbt = true;
  m.use_zarr3 = true;
  m.store_array_data_equal_to_fill_value = false;
  m.custom_metadata = nlohmann::ordered_json::parse(R"({"a": [1, 2.5, null, "x"], "b": {}})");
  seeds.push_back(fuzz::TextSeed("every_member", tree::EncodeTreeMetadata(m)));
  seeds.push_back(fuzz::TextSeed("empty_tree", R"({"tree_metadata": {}, "use_zarr3": false})"));
  return seeds;
}
