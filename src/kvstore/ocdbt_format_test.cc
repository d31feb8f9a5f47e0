// OCDBT codecs against bytes TensorStore wrote (the Orbax fixtures), the
// worked examples of tensorstore-formats.md C5-C9, and the hand-built cases
// of TensorStore's own format tests.
#include "kvstore/ocdbt_format.h"

#include <gtest/gtest.h>

#include <set>

#include "codec/crc32c.h"
#include "kvstore/ocdbt_codec.h"
#include "kvstore/ocdbt_table.h"
#include "testutil/testutil.h"

namespace stowage::kvstore::ocdbt {
namespace {

constexpr char kSmallCase[] =
    "orbax-compat/v0_checkpoints/direct_checkpoint/non_critical_metadata_alterations/"
    "missing_metrics_metadata";
constexpr char kAvi161Params[] = "orbax/Avi161__ACSolverX/ppo_checkpoints/610model/1000/params";

Bytes FileBytes(const std::filesystem::path& path) {
  std::string text = ::stowage::testing::ReadFileOrDie(path);
  auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  return Bytes(bytes.begin(), bytes.end());
}

Bytes Hex(std::string_view hex) {
  Bytes bytes;
  std::string digits;
  for (char c : hex) {
    if (c != ' ') digits += c;
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    bytes.push_back(static_cast<std::byte>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

std::string Str(const Bytes& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(OcdbtVarintTest, ShortestFormAndLimits) {
  ByteWriter writer;
  writer.Varint(0);
  writer.Varint(127);
  writer.Varint(128);
  writer.Varint(100000000);
  writer.Varint(~std::uint64_t{0});
  EXPECT_EQ(writer.bytes(), Hex("00 7f 8001 80c2d72f ffffffffffffffffff01"));
  ByteReader reader(writer.bytes());
  EXPECT_EQ(reader.Varint64(), 0u);
  EXPECT_EQ(reader.Varint64(), 127u);
  EXPECT_EQ(reader.Varint64(), 128u);
  EXPECT_EQ(reader.Varint64(), 100000000u);
  EXPECT_EQ(reader.Varint64(), ~std::uint64_t{0});
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(OcdbtVarintTest, OverflowAndTruncationFail) {
  Bytes overflow = Hex("ffffffffffffffffff02");
  ByteReader a(overflow);
  a.Varint64();
  EXPECT_FALSE(a.ok());
  Bytes truncated = Hex("8080");
  ByteReader b(truncated);
  b.Varint64();
  EXPECT_FALSE(b.ok());
  Bytes wide = Hex("808004");  // 65536: not a 16-bit length
  ByteReader c(wide);
  c.VarintAtMost(0xffff, "path length");
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("path length"), std::string::npos);
}

// tensorstore-formats.md C7, "derived example": an empty database with
// TensorStore's default configuration, uncompressed, uuid zero, commit time 1.
TEST(OcdbtManifestTest, EmptyDatabaseManifestBytes) {
  Manifest manifest;
  manifest.config.zstd_level.reset();
  manifest.versions = {Version{1, 0, {IndirectRef::Missing(), {}}, 1}};
  ASSERT_OK_AND_ASSIGN(Bytes encoded, EncodeManifest(manifest));
  EXPECT_EQ(encoded, Hex("0cdb3a2a 5100000000000000 00 00"
                         "00000000000000000000000000000000 00 64 80808004 04 00"
                         "010000"
                         "01 01 00 00 ffffffffffffffffff01 ffffffffffffffffff01 00 00 00"
                         "0100000000000000"
                         "00"
                         "d078b005"));
  ASSERT_OK_AND_ASSIGN(Manifest decoded, DecodeManifest(encoded, "m"));
  EXPECT_EQ(decoded.config, manifest.config);
  EXPECT_EQ(decoded.versions, manifest.versions);
}

// tensorstore-formats.md C7 worked example: a manifest Orbax wrote.
TEST(OcdbtManifestTest, DecodesAndReEncodesTheOrbaxManifestByteForByte) {
  auto dir = ::stowage::testing::FixturePath(kSmallCase);
  if (!dir) GTEST_SKIP() << "fixtures absent";
  Bytes encoded = FileBytes(*dir / "manifest.ocdbt");
  ASSERT_EQ(encoded.size(), 113u);
  ASSERT_OK_AND_ASSIGN(Manifest manifest, DecodeManifest(encoded, "manifest.ocdbt"));
  EXPECT_EQ(manifest.config.uuid[0], 0xeb);
  EXPECT_EQ(manifest.config.manifest_kind, ManifestKind::kSingle);
  EXPECT_EQ(manifest.config.max_inline_value_bytes, 1024u);
  EXPECT_EQ(manifest.config.max_decoded_node_bytes, 100000000u);
  EXPECT_EQ(manifest.config.version_tree_arity_log2, 4);
  EXPECT_EQ(manifest.config.zstd_level, 0);
  ASSERT_EQ(manifest.versions.size(), 1u);
  const Version& v = manifest.versions[0];
  EXPECT_EQ(v.generation, 1u);
  EXPECT_EQ(v.root_height, 0);
  EXPECT_EQ(v.root.location.file.relative_path, "d/1e5ddd9e0c03e59534e2333870f2b80c");
  EXPECT_EQ(v.root.location.offset, 0u);
  EXPECT_EQ(v.root.location.length, 240u);
  EXPECT_EQ(v.root.statistics, (BtreeStatistics{4, 240, 0}));
  EXPECT_EQ(v.commit_time, 0x18af46e8a7e4271bu);
  EXPECT_TRUE(manifest.version_tree_nodes.empty());
  ASSERT_OK_AND_ASSIGN(Bytes again, EncodeManifest(manifest));
  EXPECT_EQ(again, encoded);
}

// tensorstore-formats.md C9 worked example: the root leaf of that manifest.
TEST(OcdbtBtreeNodeTest, DecodesAndReEncodesTheOrbaxLeafByteForByte) {
  auto dir = ::stowage::testing::FixturePath(kSmallCase);
  if (!dir) GTEST_SKIP() << "fixtures absent";
  Bytes encoded = FileBytes(*dir / "d/1e5ddd9e0c03e59534e2333870f2b80c");
  ASSERT_OK_AND_ASSIGN(BtreeNode node, DecodeBtreeNode(encoded, "", "node"));
  EXPECT_EQ(node.height, 0);
  ASSERT_EQ(node.leaves.size(), 4u);
  const char* keys[] = {"a/.zarray", "a/0", "b.c/.zarray", "b.c/0"};
  const std::size_t sizes[] = {164, 41, 164, 21};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(node.leaves[i].key, keys[i]);
    ASSERT_TRUE(std::holds_alternative<Bytes>(node.leaves[i].value));
    EXPECT_EQ(std::get<Bytes>(node.leaves[i].value).size(), sizes[i]);
  }
  EXPECT_NE(Str(std::get<Bytes>(node.leaves[0].value)).find("\"dtype\":\"<i4\""),
            std::string::npos);
  Config config;
  ASSERT_OK_AND_ASSIGN(Bytes again, EncodeBtreeNode(config, node));
  EXPECT_EQ(again, encoded);
}

// tensorstore-formats.md C5 worked example: the merged root leaf of a real
// checkpoint references the per-process data files through base path
// "ocdbt.process_0/".
TEST(OcdbtBtreeNodeTest, MergedRootLeafReferencesPerProcessFiles) {
  auto dir = ::stowage::testing::FixturePath(kAvi161Params);
  if (!dir) GTEST_SKIP() << "fixtures absent";
  Bytes encoded = FileBytes(*dir / "d/7467eda51fe758bab1c06fd822487592");
  ASSERT_OK_AND_ASSIGN(Bytes body, DecodeEnvelope(encoded, kBtreeNodeMagic, 1 << 20, "node"));
  EXPECT_EQ(Hex("00 03 1212 322020 101010"),
            Bytes(body.begin(), body.begin() + 10));  // height, then the table
  ASSERT_OK_AND_ASSIGN(BtreeNode node, DecodeBtreeNode(encoded, "", "node"));
  EXPECT_EQ(node.leaves.size(), 190u);
  std::uint64_t indirect_bytes = 0;
  std::set<std::string> files;
  for (const auto& leaf : node.leaves) {
    if (const auto* ref = std::get_if<IndirectRef>(&leaf.value)) {
      indirect_bytes += ref->length;
      EXPECT_EQ(ref->file.base_path, "ocdbt.process_0/");
      files.insert(ref->file.relative_path);
    }
  }
  EXPECT_EQ(indirect_bytes, 499865u);
  EXPECT_EQ(files.size(), 3u);
  ASSERT_OK_AND_ASSIGN(BtreeNode with_base, DecodeBtreeNode(encoded, "x/", "node"));
  const auto& ref = std::get<IndirectRef>(
      std::find_if(with_base.leaves.begin(), with_base.leaves.end(), [](const LeafEntry& e) {
        return std::holds_alternative<IndirectRef>(e.value);
      })->value);
  EXPECT_EQ(ref.file.base_path, "x/ocdbt.process_0/");
  // TensorStore wrote this frame without a content size, so compare bodies.
  ASSERT_OK_AND_ASSIGN(Bytes again, EncodeBtreeNode(Config{}, node));
  ASSERT_OK_AND_ASSIGN(Bytes again_body, DecodeEnvelope(again, kBtreeNodeMagic, 1 << 20, "node"));
  EXPECT_EQ(again_body, body);
}

Result<std::vector<DataFileId>> RoundTripTable(std::vector<DataFileId> files,
                                               std::string_view transitive) {
  DataFileTableBuilder builder;
  for (const auto& file : files) builder.Add(file);
  ByteWriter writer;
  builder.Write(writer);
  ByteReader reader(writer.bytes());
  auto decoded = ReadDataFileTable(reader, transitive);
  if (!reader.ok()) return DataLossError(reader.error());
  return decoded;
}

Result<std::vector<DataFileId>> DecodeTable(const Bytes& bytes, std::string_view transitive = "") {
  ByteReader reader(bytes);
  auto decoded = ReadDataFileTable(reader, transitive);
  if (!reader.ok()) return DataLossError(reader.error());
  return decoded;
}

// TensorStore data_file_id_codec_test.cc: DataFileBuilderTest.Simple,
// .Prefixes, .AddBasePath, .Empty.
TEST(OcdbtDataFileTableTest, SortsDeduplicatesAndAppliesTheTransitivePath) {
  ASSERT_OK_AND_ASSIGN(
      auto simple,
      RoundTripTable({{"b", "d"}, {"a", "c"}, {"a", "b"}, {"b", "e"}, {"b", "d"}}, ""));
  EXPECT_EQ(simple, (std::vector<DataFileId>{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"b", "e"}}));
  std::vector<DataFileId> prefixes = {{"", ""},   {"", "a"},    {"", "ab"},    {"", "ac"},
                                      {"a", ""},  {"a", "x"},   {"a", "xy"},   {"a", "xyz"},
                                      {"ab", ""}, {"ab", "xy"}, {"ab", "xyz"}, {"ac", "xy"}};
  ASSERT_OK_AND_ASSIGN(auto decoded, RoundTripTable(prefixes, ""));
  EXPECT_EQ(decoded, prefixes);
  ASSERT_OK_AND_ASSIGN(auto based, RoundTripTable({{"b", "d"}, {"a", "c"}, {"", "y"}}, "x/"));
  EXPECT_EQ(based, (std::vector<DataFileId>{{"x/", "y"}, {"x/a", "c"}, {"x/b", "d"}}));
  ByteWriter empty;
  DataFileTableBuilder().Write(empty);
  EXPECT_EQ(empty.bytes(), Hex("00"));
  EXPECT_ERROR_CODE(DecodeTable(Bytes{}), ErrorCode::kDataLoss);  // .Truncated
}

// TensorStore data_file_id_codec_test.cc: SuffixLengthTooLong,
// BasePathLengthTooLong, PrefixLengthTooLong, BasePathLongerThanPath,
// BasePathTooLongWithPrefix.
TEST(OcdbtDataFileTableTest, RejectsTheHandBuiltInvalidTables) {
  EXPECT_ERROR_CODE(DecodeTable(Hex("01 808004")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(DecodeTable(Hex("01 05 808004")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(DecodeTable(Hex("02 808004")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(DecodeTable(Hex("01 05 06 6161616161")), ErrorCode::kDataLoss);
  ASSERT_OK_AND_ASSIGN(auto long_path,
                       RoundTripTable({{std::string(kMaxPathLength, 'x'), ""}}, ""));
  EXPECT_EQ(long_path[0].base_path.size(), kMaxPathLength);
  EXPECT_ERROR_CODE(RoundTripTable({{std::string(kMaxPathLength, 'x'), ""}}, "z"),
                    ErrorCode::kDataLoss);
  // Two files whose shared prefix runs past differing base paths.
  EXPECT_ERROR_CODE(DecodeTable(Hex("02 02 02 01 01 02 6162 63")), ErrorCode::kDataLoss);
}

TEST(OcdbtEnvelopeTest, DetectsEveryKindOfDamage) {
  Bytes body = Hex("00 01 02 03 04 05");
  for (std::optional<int> level : {std::optional<int>(), std::optional<int>(0)}) {
    ASSERT_OK_AND_ASSIGN(Bytes encoded, EncodeEnvelope(kBtreeNodeMagic, body, level));
    ASSERT_OK_AND_ASSIGN(Bytes decoded, DecodeEnvelope(encoded, kBtreeNodeMagic, 100, "f"));
    EXPECT_EQ(decoded, body);
    EXPECT_ERROR_CODE(DecodeEnvelope(encoded, kManifestMagic, 100, "f"), ErrorCode::kDataLoss);
    EXPECT_ERROR_CODE(DecodeEnvelope(encoded, kBtreeNodeMagic, 3, "f"), ErrorCode::kDataLoss);
    Bytes truncated(encoded.begin(), encoded.end() - 1);
    EXPECT_ERROR_CODE(DecodeEnvelope(truncated, kBtreeNodeMagic, 100, "f"), ErrorCode::kDataLoss);
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      Bytes flipped = encoded;
      flipped[i] ^= std::byte{0x10};
      auto result = DecodeEnvelope(flipped, kBtreeNodeMagic, 100, "some/file");
      ASSERT_FALSE(result.has_value()) << "flip at " << i;
      EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss);
      EXPECT_NE(result.error().message().find("some/file"), std::string::npos);
    }
  }
}

TEST(OcdbtEnvelopeTest, RejectsVersionAndCompressionItDoesNotKnow) {
  for (const char* header : {"01 00", "00 02"}) {
    ByteWriter writer;
    writer.Append(Hex("0cdb20de 0000000000000000"));
    writer.Append(Hex(header));
    writer.Append(Hex("00"));
    Bytes bytes = writer.bytes();
    bytes[4] = static_cast<std::byte>(bytes.size() + 4);
    ByteWriter full;
    full.Append(bytes);
    full.U32Le(codec::Crc32c(bytes));
    EXPECT_ERROR_CODE(DecodeEnvelope(full.bytes(), kBtreeNodeMagic, 100, "f"),
                      ErrorCode::kDataLoss);
  }
}

}  // namespace
}  // namespace stowage::kvstore::ocdbt
