// Fuzzes the OCDBT B+tree node decoder (kvstore::ocdbt::DecodeBtreeNode):
// leaf nodes (inline and indirect values) and interior nodes (child
// references and statistics). Input: see ocdbt_envelope.h. Invariant: a
// decoded node encodes, and that encoding decodes to the same node.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kvstore/ocdbt_format.h"
#include "ocdbt_envelope.h"

namespace {

using namespace stowage;                  // NOLINT
using namespace stowage::kvstore::ocdbt;  // NOLINT

bool SameNode(const BtreeNode& a, const BtreeNode& b) {
  if (a.height != b.height || a.leaves.size() != b.leaves.size() ||
      a.children.size() != b.children.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.leaves.size(); ++i) {
    if (a.leaves[i].key != b.leaves[i].key || a.leaves[i].value != b.leaves[i].value) return false;
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    const InteriorEntry &x = a.children[i], &y = b.children[i];
    if (x.key != y.key || x.subtree_common_prefix_length != y.subtree_common_prefix_length ||
        !(x.child == y.child)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  Bytes object = fuzz::OcdbtObject(kBtreeNodeMagic, input);
  auto node = DecodeBtreeNode(object, "", "d/node");
  if (!node) return 0;
  Config config;
  config.zstd_level = std::nullopt;
  auto encoded = EncodeBtreeNode(config, *node);
  fuzz::Check(encoded.has_value(), "a decoded B+tree node encodes");
  auto again = DecodeBtreeNode(*encoded, "", "re-encoded node");
  fuzz::Check(again.has_value(), "an encoded B+tree node decodes");
  fuzz::Check(SameNode(*node, *again), "an encoded B+tree node decodes to the same node");
  return 0;
}

namespace {

void AddNodeSeeds(std::vector<fuzz::Seed>& seeds, const std::string& name, const BtreeNode& node) {
  Config config;
  config.zstd_level = std::nullopt;
  Bytes uncompressed = EncodeBtreeNode(config, node).value();
  config.zstd_level = 0;
  fuzz::AddOcdbtSeeds(seeds, name, uncompressed, EncodeBtreeNode(config, node).value());
}

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  BtreeNode leaf;
  leaf.leaves.push_back({"a/.zarray", ToBytes(R"({"chunks":[2],"zarr_format":2})")});
  leaf.leaves.push_back({"a/0", IndirectRef{{"ocdbt.process_0/", "d/data1"}, 0, 4096}});
  leaf.leaves.push_back({"a/1", IndirectRef{{"ocdbt.process_0/", "d/data1"}, 4096, 100}});
  leaf.leaves.push_back({"b.c/0", Bytes{}});
  AddNodeSeeds(seeds, "leaf", leaf);
  BtreeNode interior;
  interior.height = 2;
  interior.children.push_back({"a/", 2, {{{"", "d/n1"}, 0, 300}, {10, 300, 5000}}});
  interior.children.push_back({"b/x", 1, {{{"", "d/n2"}, 300, 200}, {3, 200, 0}}});
  AddNodeSeeds(seeds, "interior", interior);
  return seeds;
}
