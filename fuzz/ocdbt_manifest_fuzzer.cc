// Fuzzes the OCDBT manifest decoder (kvstore::ocdbt::DecodeManifest): the
// envelope, the configuration, the data file table, inline versions and
// version-tree node references. Input: see ocdbt_envelope.h. Invariant: a
// decoded manifest encodes, and that encoding decodes and encodes to itself.
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
  Bytes object = fuzz::OcdbtObject(kManifestMagic, input);
  auto manifest = DecodeManifest(object, "manifest.ocdbt");
  if (!manifest) return 0;
  auto encoded = EncodeManifest(*manifest);
  fuzz::Check(encoded.has_value(), "a decoded manifest encodes");
  auto again = DecodeManifest(*encoded, "re-encoded manifest.ocdbt");
  fuzz::Check(again.has_value(), "an encoded manifest decodes");
  fuzz::Check(again->config == manifest->config && again->versions == manifest->versions &&
                  again->version_tree_nodes == manifest->version_tree_nodes,
              "an encoded manifest decodes to the same manifest");
  auto twice = EncodeManifest(*again);
  fuzz::Check(twice.has_value() && *twice == *encoded, "a manifest encodes the same twice");
  return 0;
}

namespace {

void AddManifestSeeds(std::vector<fuzz::Seed>& seeds, const std::string& name, Manifest m) {
  m.config.zstd_level = std::nullopt;
  Bytes uncompressed = EncodeManifest(m).value();
  m.config.zstd_level = 0;
  fuzz::AddOcdbtSeeds(seeds, name, uncompressed, EncodeManifest(m).value());
}

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  Manifest m;
  m.versions = {Version{1, 0, {IndirectRef::Missing(), {}}, 1}};
  AddManifestSeeds(seeds, "empty_database", m);
  IndirectRef root{{"", "d/1e5ddd9e0c03e59534e2333870f2b80c"}, 0, 240};
  m.config.uuid[0] = 0xeb;
  m.config.max_inline_value_bytes = 1024;
  m.versions = {Version{1, 0, {root, {4, 240, 0}}, 0x18af46e8a7e4271b}};
  AddManifestSeeds(seeds, "one_version", m);
  // Generations 17..19 inline; 1..16 in a version-tree leaf.
  m.versions.clear();
  for (std::uint64_t g = 17; g <= 19; ++g) {
    IndirectRef r{{"", "d/root" + std::to_string(g)}, 100 * g, 90};
    m.versions.push_back(Version{g, 1, {r, {g, 90, 7}}, 1000 + g});
  }
  m.version_tree_nodes = {VersionNodeRef{16, {{"", "d/vnode"}, 0, 300}, 16, 1001, 0}};
  AddManifestSeeds(seeds, "version_tree", m);
  Manifest numbered;
  numbered.config.manifest_kind = ManifestKind::kNumbered;
  AddManifestSeeds(seeds, "numbered_config", numbered);
  return seeds;
}
