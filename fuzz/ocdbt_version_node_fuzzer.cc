// Fuzzes the OCDBT version-tree node decoder
// (kvstore::ocdbt::DecodeVersionNode), as reached through a reference whose
// base path is "base/". Input: see ocdbt_envelope.h. Invariant: a decoded
// node encodes, and that encoding decodes to the same node.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kvstore/ocdbt_format.h"
#include "ocdbt_envelope.h"

using namespace stowage;                  // NOLINT
using namespace stowage::kvstore::ocdbt;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  Bytes object = fuzz::OcdbtObject(kVersionNodeMagic, input);
  auto node = DecodeVersionNode(object, "", "d/version_node");
  if (!node) return 0;
  Config config;
  config.zstd_level = std::nullopt;
  auto encoded = EncodeVersionNode(config, *node);
  fuzz::Check(encoded.has_value(), "a decoded version node encodes");
  auto again = DecodeVersionNode(*encoded, "", "re-encoded version node");
  fuzz::Check(again.has_value(), "an encoded version node decodes");
  fuzz::Check(again->version_tree_arity_log2 == node->version_tree_arity_log2 &&
                  again->height == node->height && again->versions == node->versions &&
                  again->children == node->children,
              "an encoded version node decodes to the same node");
  return 0;
}

namespace {

void AddNodeSeeds(std::vector<fuzz::Seed>& seeds, const std::string& name,
                  const VersionNode& node) {
  Config config;
  config.zstd_level = std::nullopt;
  Bytes uncompressed = EncodeVersionNode(config, node).value();
  config.zstd_level = 0;
  fuzz::AddOcdbtSeeds(seeds, name, uncompressed, EncodeVersionNode(config, node).value());
}

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  VersionNode leaf;
  for (std::uint64_t g = 1; g <= 16; ++g) {
    IndirectRef root{{"", "d/root" + std::to_string(g % 3)}, 10 * g, 9};
    leaf.versions.push_back(Version{g, 0, {root, {g, 9, 0}}, 500 + g});
  }
  leaf.versions[0].root = {IndirectRef::Missing(), {}};
  AddNodeSeeds(seeds, "leaf", leaf);
  VersionNode interior;
  interior.height = 1;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    interior.children.push_back(
        VersionNodeRef{16 * i, {{"", "d/vnode" + std::to_string(i)}, 0, 400}, 16, 100 * i, 0});
  }
  AddNodeSeeds(seeds, "interior", interior);
  return seeds;
}
