// Corrupt, truncated and hostile OCDBT databases: every one is a typed error
// naming the file, never a crash, a hang or an unbounded allocation.
#include <gtest/gtest.h>

#include <random>

#include "kvstore/ocdbt_codec.h"
#include "kvstore/ocdbt_format.h"
#include "stowage/ocdbt.h"
#include "testutil/testutil.h"

namespace stowage::kvstore {
namespace {

using namespace ocdbt;  // NOLINT

// A database with one leaf root "d/root" holding "k" -> indirect "d/data".
struct Crafted {
  std::shared_ptr<Store> base = NewMemoryStore();
  Config config;

  void WriteManifest(std::uint8_t height, IndirectRef root) {
    Manifest manifest{config, {Version{1, height, {root, {1, root.length, 0}}, 1}}, {}};
    auto encoded = EncodeManifest(manifest);
    ASSERT_TRUE(encoded.has_value());
    ASSERT_OK(base->Write("manifest.ocdbt", *encoded));
  }

  IndirectRef WriteNode(const std::string& file, const BtreeNode& node) {
    auto encoded = EncodeBtreeNode(config, node);
    EXPECT_TRUE(encoded.has_value());
    EXPECT_OK(base->Write(file, *encoded));
    return {{"", file}, 0, encoded->size()};
  }

  Error ReadError(std::string_view key) {
    auto store = OcdbtStore::Open(base);
    if (!store) return store.error();
    auto value = (*store)->Read(key);
    EXPECT_FALSE(value.has_value());
    return value ? Error(ErrorCode::kInternal, "read succeeded") : value.error();
  }
};

BtreeNode Leaf(std::string key, ValueRef value) {
  BtreeNode node;
  node.leaves.push_back({std::move(key), std::move(value)});
  return node;
}

void ExpectDataLossNaming(const Error& error, std::string_view file) {
  EXPECT_EQ(error.code(), ErrorCode::kDataLoss) << error.ToString();
  EXPECT_NE(error.message().find(file), std::string::npos) << error.ToString();
}

TEST(OcdbtHostileTest, EveryDamagedManifestByteIsDataLossNamingTheFile) {
  Crafted db;
  db.WriteManifest(0, db.WriteNode("d/root", Leaf("k", ToBytes("v"))));
  ASSERT_OK_AND_ASSIGN(Bytes good, db.base->Read("manifest.ocdbt"));
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= std::byte{0x41};
    ASSERT_OK(db.base->Write("manifest.ocdbt", bad));
    auto store = OcdbtStore::Open(db.base);
    ASSERT_FALSE(store.has_value()) << "flip at byte " << i;
    ExpectDataLossNaming(store.error(), "manifest.ocdbt");
  }
  for (std::size_t size = 0; size < good.size(); ++size) {
    ASSERT_OK(db.base->Write("manifest.ocdbt", std::span(good).first(size)));
    auto store = OcdbtStore::Open(db.base);
    ASSERT_FALSE(store.has_value()) << "truncated to " << size;
    ExpectDataLossNaming(store.error(), "manifest.ocdbt");
  }
}

TEST(OcdbtHostileTest, DamagedNodeIsDataLossNamingTheNodeFile) {
  Crafted db;
  IndirectRef root = db.WriteNode("d/root", Leaf("k", ToBytes("v")));
  db.WriteManifest(0, root);
  ASSERT_OK_AND_ASSIGN(Bytes good, db.base->Read("d/root"));
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= std::byte{0x08};
    ASSERT_OK(db.base->Write("d/root", bad));
    ExpectDataLossNaming(db.ReadError("k"), "d/root");
  }
  ASSERT_OK(db.base->Write("d/root", std::span(good).first(good.size() - 3)));
  ExpectDataLossNaming(db.ReadError("k"), "d/root");  // shorter than the reference
  ASSERT_OK(db.base->Delete("d/root"));
  Error missing = db.ReadError("k");
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("d/root"), std::string::npos);
}

TEST(OcdbtHostileTest, ValueReferencePastTheEndOfItsDataFile) {
  Crafted db;
  ASSERT_OK(db.base->Write("d/data", ToBytes("0123456789")));
  db.WriteManifest(0, db.WriteNode("d/root", Leaf("k", IndirectRef{{"", "d/data"}, 4, 100})));
  ExpectDataLossNaming(db.ReadError("k"), "d/data");
}

TEST(OcdbtHostileTest, AbsurdSizesAreRefusedBeforeAllocating) {
  Crafted db;
  const std::uint64_t huge = std::uint64_t{1} << 61;
  ASSERT_OK(db.base->Write("d/data", ToBytes("0123456789")));
  db.WriteManifest(0, db.WriteNode("d/root", Leaf("k", IndirectRef{{"", "d/data"}, 0, huge})));
  ExpectDataLossNaming(db.ReadError("k"), "d/data");
  // A root reference claiming an enormous node.
  db.WriteManifest(0, IndirectRef{{"", "d/root"}, 0, huge});
  ExpectDataLossNaming(db.ReadError("k"), "d/root");
  // Offset + length overflowing 2^63 is rejected while decoding the node.
  db.WriteManifest(0,
                   db.WriteNode("d/root", Leaf("k", IndirectRef{{"", "d/data"}, huge * 3, huge})));
  ExpectDataLossNaming(db.ReadError("k"), "d/root");
}

TEST(OcdbtHostileTest, ANodeThatPointsAtItselfIsNotFollowedForever) {
  Crafted db;
  // An interior root whose only child is the root itself: the child must have
  // height 0 but has height 1.
  BtreeNode node;
  node.height = 1;
  node.children.push_back({"k", 0, {{{"", "d/root"}, 0, 0}, {}}});
  auto first = EncodeBtreeNode(db.config, node);
  ASSERT_TRUE(first.has_value());
  node.children[0].child.location.length = first->size();
  IndirectRef self = db.WriteNode("d/root", node);
  ASSERT_EQ(self.length, first->size());
  db.WriteManifest(1, self);
  ExpectDataLossNaming(db.ReadError("k"), "d/root");
  auto store = OcdbtStore::Open(db.base);
  ASSERT_TRUE(store.has_value());
  auto keys = (*store)->List("");
  ASSERT_FALSE(keys.has_value());
  ExpectDataLossNaming(keys.error(), "d/root");
}

TEST(OcdbtHostileTest, ChildStartingBeforeItsParentKeyIsDataLoss) {
  Crafted db;
  IndirectRef leaf = db.WriteNode("d/leaf", Leaf("a", ToBytes("v")));
  BtreeNode root;
  root.height = 1;
  root.children.push_back({"m", 0, {leaf, {1, leaf.length, 0}}});
  db.WriteManifest(1, db.WriteNode("d/root", root));
  auto store = OcdbtStore::Open(db.base);
  ASSERT_TRUE(store.has_value());
  auto keys = (*store)->List("");
  ASSERT_FALSE(keys.has_value());
  ExpectDataLossNaming(keys.error(), "d/leaf");
}

TEST(OcdbtHostileTest, ForgedEntryCountsAndKeysAreDataLoss) {
  // Body: height 0, no files, then a count of 2^20 + 1 entries.
  for (const char* body : {"00 00 81 80 40", "00 00 00", "00 00 ff ff ff ff ff ff ff ff ff 01",
                           "00 00 02 05 01 01 61 62", "00 00 01 01 61 01 02 00"}) {
    Bytes raw;
    std::string digits;
    for (const char* c = body; *c; ++c) {
      if (*c != ' ') digits += *c;
    }
    for (std::size_t i = 0; i < digits.size(); i += 2) {
      raw.push_back(static_cast<std::byte>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    auto encoded = EncodeEnvelope(kBtreeNodeMagic, raw, std::nullopt);
    ASSERT_TRUE(encoded.has_value());
    auto node = DecodeBtreeNode(*encoded, "", "d/forged");
    ASSERT_FALSE(node.has_value()) << body;
    ExpectDataLossNaming(node.error(), "d/forged");
  }
}

}  // namespace
}  // namespace stowage::kvstore

namespace stowage::kvstore {
namespace {

using namespace ocdbt;  // NOLINT

// Bodies with valid checksums but mutated contents reach the parsers: each
// decodes or fails with kDataLoss; none crashes (ASan/UBSan in CI).
void MutateAndDecode(const Bytes& body, std::uint32_t magic, std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < 3000; ++round) {
    Bytes mutated = body;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % mutated.size();
      switch (rng() % 3) {
        case 0:
          mutated[at] = static_cast<std::byte>(rng());
          break;
        case 1:
          mutated.resize(at);
          break;
        default:
          mutated.insert(mutated.begin() + at, static_cast<std::byte>(0xff));
      }
      if (mutated.empty()) mutated.push_back(std::byte{0});
    }
    auto encoded = EncodeEnvelope(magic, mutated, std::nullopt);
    ASSERT_TRUE(encoded.has_value());
    Status status = OkStatus();
    if (magic == kBtreeNodeMagic) {
      auto node = DecodeBtreeNode(*encoded, "", "d/mutant");
      if (!node.has_value()) status = node.error();
    } else {
      auto manifest = DecodeManifest(*encoded, "manifest.ocdbt");
      if (!manifest.has_value()) status = manifest.error();
    }
    if (!status.has_value()) {
      EXPECT_EQ(status.error().code(), ErrorCode::kDataLoss);
    }
  }
}

TEST(OcdbtHostileTest, MutatedNodeAndManifestBodiesNeverCrashTheDecoders) {
  Crafted db;
  BtreeNode node;
  for (int i = 0; i < 40; ++i) {
    std::string key = "params.layer_" + std::to_string(i) + "/0";
    if (i % 3 == 0) {
      node.leaves.push_back({key, IndirectRef{{"ocdbt.process_0/", "d/0123"}, 100u * i, 77}});
    } else {
      node.leaves.push_back({key, ToBytes(std::string(i, 'v'))});
    }
  }
  db.config.zstd_level.reset();
  auto encoded = EncodeBtreeNode(db.config, node);
  ASSERT_TRUE(encoded.has_value());
  Bytes body(encoded->begin() + 14, encoded->end() - 4);  // header: 12 + 2 varints
  MutateAndDecode(body, kBtreeNodeMagic, 1);

  Manifest manifest{db.config, {}, {}};
  for (std::uint64_t g = 1; g <= 5; ++g) {
    manifest.versions.push_back({g, 0, {{{"", "d/root"}, 0, 10}, {1, 10, 0}}, g});
  }
  auto encoded_manifest = EncodeManifest(manifest);
  ASSERT_TRUE(encoded_manifest.has_value());
  Bytes manifest_body(encoded_manifest->begin() + 14, encoded_manifest->end() - 4);
  MutateAndDecode(manifest_body, kManifestMagic, 2);
}

}  // namespace
}  // namespace stowage::kvstore
