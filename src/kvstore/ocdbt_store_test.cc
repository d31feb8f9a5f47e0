// OcdbtStore: writer -> reader round trips, generations, merges, node
// counts, and the databases Orbax wrote.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "kvstore/ocdbt_format.h"
#include "stowage/ocdbt.h"
#include "testutil/testutil.h"

namespace stowage::kvstore {
namespace {

namespace fs = std::filesystem;

std::string KeyOf(int i) {
  char key[32];
  std::snprintf(key, sizeof(key), "param.%05d/0", i);
  return key;
}

// Small values stay inline; every seventh is large and goes to a data file.
std::string ValueOf(int i) {
  std::string value = "value " + std::to_string(i);
  if (i % 7 == 0) value.append(1500 + i % 13, static_cast<char>('a' + i % 26));
  return value;
}

std::unique_ptr<OcdbtStore> OpenOrDie(std::shared_ptr<Store> base, std::string root = "",
                                      OcdbtOptions options = {}) {
  auto store = OcdbtStore::Open(std::move(base), std::move(root), options);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return std::move(*store);
}

void WriteKeys(OcdbtStore& store, int count) {
  for (int i = 0; i < count; ++i) ASSERT_OK(store.Write(KeyOf(i), ToBytes(ValueOf(i))));
  ASSERT_OK(store.Commit());
}

void ExpectKeys(const OcdbtStore& store, int count) {
  ASSERT_OK_AND_ASSIGN(auto keys, store.List(""));
  ASSERT_EQ(keys.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(keys[i], KeyOf(i));
    ASSERT_OK_AND_ASSIGN(auto value, store.Read(KeyOf(i)));
    ASSERT_EQ(AsStringView(value), ValueOf(i)) << KeyOf(i);
  }
}

class OcdbtRoundTripTest : public ::testing::TestWithParam<int> {};

TEST_P(OcdbtRoundTripTest, WriterThenReader) {
  int count = GetParam();
  std::shared_ptr<Store> base = NewMemoryStore();
  {
    auto store = OpenOrDie(base);
    WriteKeys(*store, count);
    ExpectKeys(*store, count);  // the writer sees its own commit
  }
  auto reopened = OpenOrDie(base);
  ExpectKeys(*reopened, count);
  OcdbtSummary summary = reopened->Summary();
  EXPECT_EQ(summary.generation, 1u);
  EXPECT_EQ(summary.num_keys, static_cast<std::uint64_t>(count));
  EXPECT_ERROR_CODE(reopened->Read("param.zzz"), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(reopened->Read(""), ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(KeyCounts, OcdbtRoundTripTest, ::testing::Values(1, 1000, 100000));

TEST(OcdbtStoreTest, SmallNodesGiveADeepTreeAndLookupsReadOneNodePerLevel) {
  std::shared_ptr<Store> base = NewMemoryStore();
  OcdbtOptions options;
  options.max_decoded_node_bytes = 4096;
  WriteKeys(*OpenOrDie(base, "", options), 100000);
  auto store = OpenOrDie(base);
  OcdbtSummary summary = store->Summary();
  ASSERT_GE(summary.root_height, 2);
  ASSERT_OK_AND_ASSIGN(auto value, store->Read(KeyOf(54321)));
  EXPECT_EQ(AsStringView(value), ValueOf(54321));
  EXPECT_EQ(store->node_reads(), summary.root_height + 1u);
  EXPECT_ERROR_CODE(store->Read("param.54321x"), ErrorCode::kNotFound);
  ExpectKeys(*store, 100000);
  ASSERT_OK_AND_ASSIGN(auto some, store->List("param.0999"));
  EXPECT_EQ(some.size(), 10u);
  EXPECT_EQ(some.front(), KeyOf(9990));
}

TEST(OcdbtStoreTest, ManyValuesShareAFewDataFiles) {
  testing::TempDir dir;
  std::shared_ptr<Store> base = OpenFileStore(dir.path(), {.fsync = FsyncPolicy::kNone});
  auto store = OpenOrDie(base);
  WriteKeys(*store, 10000);
  std::size_t files = 0;
  for (auto& entry : fs::recursive_directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 2u);  // the manifest and one data file
  ASSERT_OK_AND_ASSIGN(auto data_files, store->DataFiles());
  EXPECT_EQ(data_files.size(), 1u);
  ExpectKeys(*OpenOrDie(base), 10000);
}

TEST(OcdbtStoreTest, DataFilesRollOverAtTheTargetSize) {
  std::shared_ptr<Store> base = NewMemoryStore();
  OcdbtOptions options;
  options.target_data_file_size = 20000;
  auto store = OpenOrDie(base, "", options);
  WriteKeys(*store, 700);  // 100 large values of ~1.5 kB
  ASSERT_OK_AND_ASSIGN(auto data_files, store->DataFiles());
  EXPECT_GE(data_files.size(), 7u);
  ExpectKeys(*OpenOrDie(base), 700);
}

// A full data file is closed by the last append into it, while others go on
// into the next: on an object store its upload overlaps the rest.
TEST(OcdbtStoreTest, ConcurrentWritersCloseFullDataFilesBeforeCommit) {
  std::shared_ptr<Store> base = NewMemoryStore();
  OcdbtOptions options;
  options.target_data_file_size = 20000;
  auto store = OpenOrDie(base, "", options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 2800; i += 4) EXPECT_OK(store->Write(KeyOf(i), ToBytes(ValueOf(i))));
    });
  }
  for (auto& thread : threads) thread.join();
  // 400 values of ~1.5 kB: ~30 files, all but the current one already closed
  // (a memory store's appended value appears on Close).
  ASSERT_OK_AND_ASSIGN(auto closed, base->List("d/"));
  EXPECT_GE(closed.size(), 25u);
  ASSERT_OK(store->Commit());
  ASSERT_OK_AND_ASSIGN(auto data_files, store->DataFiles());
  EXPECT_GT(data_files.size(), closed.size());  // + the last, and the tree's nodes
  ExpectKeys(*OpenOrDie(base), 2800);
}

TEST(OcdbtStoreTest, GenerationsOverwriteDeleteAndSpillIntoTheVersionTree) {
  std::shared_ptr<Store> base = NewMemoryStore();
  auto store = OpenOrDie(base);
  for (int generation = 1; generation <= 300; ++generation) {
    ASSERT_OK(store->Write("counter", ToBytes(std::to_string(generation))));
    ASSERT_OK(store->Write("g/" + std::to_string(generation), ToBytes(ValueOf(generation))));
    if (generation > 1) ASSERT_OK(store->Delete("g/" + std::to_string(generation - 1)));
    ASSERT_OK(store->Commit());
  }
  auto reopened = OpenOrDie(base);
  EXPECT_EQ(reopened->Summary().generation, 300u);
  EXPECT_EQ(reopened->Summary().num_version_tree_nodes, 2u);  // 257..288 at h1, 1..256 at h2
  ASSERT_OK_AND_ASSIGN(auto counter, reopened->Read("counter"));
  EXPECT_EQ(AsStringView(counter), "300");
  ASSERT_OK_AND_ASSIGN(auto keys, reopened->List(""));
  EXPECT_EQ(keys, (std::vector<std::string>{"counter", "g/300"}));
  ASSERT_OK_AND_ASSIGN(auto manifest_bytes, base->Read("manifest.ocdbt"));
  ASSERT_OK_AND_ASSIGN(auto manifest, ocdbt::DecodeManifest(manifest_bytes, "manifest.ocdbt"));
  EXPECT_EQ(manifest.versions.front().generation, 289u);
  ASSERT_EQ(manifest.version_tree_nodes.size(), 2u);
  EXPECT_EQ(manifest.version_tree_nodes[0].height, 2);
  EXPECT_EQ(manifest.version_tree_nodes[0].generation, 256u);
  EXPECT_EQ(manifest.version_tree_nodes[0].num_generations, 256u);
  EXPECT_EQ(manifest.version_tree_nodes[1].height, 1);
  EXPECT_EQ(manifest.version_tree_nodes[1].generation, 288u);
  EXPECT_EQ(manifest.version_tree_nodes[1].num_generations, 32u);
  // The height-2 node holds 16 full height-1 nodes.
  const auto& ref = manifest.version_tree_nodes[0].location;
  ASSERT_OK_AND_ASSIGN(auto encoded, base->ReadRange(ref.file.FullPath(), ref.offset, ref.length));
  ASSERT_OK_AND_ASSIGN(auto node, ocdbt::DecodeVersionNode(encoded, "", "node"));
  ASSERT_EQ(node.children.size(), 1u);  // the full height-1 node of 1..256
  EXPECT_EQ(node.children[0].generation, 256u);
  EXPECT_EQ(node.children[0].num_generations, 256u);
  const auto& child = node.children[0].location;
  ASSERT_OK_AND_ASSIGN(encoded, base->ReadRange(child.file.FullPath(), child.offset, child.length));
  ASSERT_OK_AND_ASSIGN(auto height1, ocdbt::DecodeVersionNode(encoded, "", "node"));
  ASSERT_EQ(height1.children.size(), 16u);
  EXPECT_EQ(height1.children.back().generation, 256u);
  EXPECT_EQ(height1.children.front().generation, 16u);
}

TEST(OcdbtStoreTest, WritesAreInvisibleUntilCommit) {
  std::shared_ptr<Store> base = NewMemoryStore();
  auto store = OpenOrDie(base);
  ASSERT_OK(store->Write("a", ToBytes("1")));
  EXPECT_ERROR_CODE(store->Read("a"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(bool exists, IsOcdbtDatabase(*base));
  EXPECT_FALSE(exists);
  ASSERT_OK(store->Commit());
  ASSERT_OK_AND_ASSIGN(exists, IsOcdbtDatabase(*base));
  EXPECT_TRUE(exists);
  ASSERT_OK_AND_ASSIGN(auto value, store->Read("a"));
  EXPECT_EQ(AsStringView(value), "1");
}

// Delegates to a memory store but refuses to write the manifest while
// `fail_manifest` is set.
class ManifestFailingStore final : public Store {
 public:
  bool fail_manifest = true;
  Result<Bytes> Read(std::string_view key, ReadOptions options) const override {
    return inner_->Read(key, options);
  }
  Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                          std::uint64_t length) const override {
    return inner_->ReadRange(key, offset, length);
  }
  Status Write(std::string_view key, std::span<const std::byte> value,
               WriteOptions options) override {
    if (fail_manifest && key == "manifest.ocdbt") return IoError("injected failure");
    return inner_->Write(key, value, options);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<bool> Exists(std::string_view key) const override { return inner_->Exists(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    return inner_->List(prefix);
  }
  std::string Describe(std::string_view key) const override { return inner_->Describe(key); }

 private:
  std::unique_ptr<Store> inner_ = NewMemoryStore();
};

TEST(OcdbtStoreTest, AFailedCommitKeepsThePreviousGenerationAndCanBeRetried) {
  auto base = std::make_shared<ManifestFailingStore>();
  base->fail_manifest = false;
  auto store = OpenOrDie(base);
  ASSERT_OK(store->Write("k", ToBytes("v1")));
  ASSERT_OK(store->Commit());
  base->fail_manifest = true;
  ASSERT_OK(store->Write("k", ToBytes("v2")));
  ASSERT_OK(store->Write("big", ToBytes(std::string(5000, 'b'))));
  EXPECT_ERROR_CODE(store->Commit(), ErrorCode::kIo);
  ASSERT_OK_AND_ASSIGN(auto value, OpenOrDie(base)->Read("k"));
  EXPECT_EQ(AsStringView(value), "v1");         // the previous generation is intact
  ASSERT_OK(store->Write("k", ToBytes("v3")));  // staged after the failure: wins
  base->fail_manifest = false;
  ASSERT_OK(store->Commit());
  auto reopened = OpenOrDie(base);
  ASSERT_OK_AND_ASSIGN(value, reopened->Read("k"));
  EXPECT_EQ(AsStringView(value), "v3");
  ASSERT_OK_AND_ASSIGN(value, reopened->Read("big"));
  EXPECT_EQ(value.size(), 5000u);
  EXPECT_EQ(reopened->Summary().generation, 2u);
}

TEST(OcdbtStoreTest, ConcurrentWritersThenOneCommit) {
  std::shared_ptr<Store> base = NewMemoryStore();
  auto store = OpenOrDie(base);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 2000; i += 4) EXPECT_OK(store->Write(KeyOf(i), ToBytes(ValueOf(i))));
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_OK(store->Commit());
  ExpectKeys(*OpenOrDie(base), 2000);
}

TEST(OcdbtStoreTest, MergeReferencesTheChildrensDataFiles) {
  testing::TempDir dir;
  std::shared_ptr<Store> base = OpenFileStore(dir.path(), {.fsync = FsyncPolicy::kNone});
  for (int process = 0; process < 3; ++process) {
    auto child = OpenOrDie(base, "ocdbt.process_" + std::to_string(process) + "/");
    for (int i = process; i < 3000; i += 3) ASSERT_OK(child->Write(KeyOf(i), ToBytes(ValueOf(i))));
    ASSERT_OK(child->Commit());
  }
  std::vector<std::string> children = {"ocdbt.process_0", "ocdbt.process_1/", "ocdbt.process_2/"};
  ASSERT_OK(MergeOcdbtDatabases(base, children));
  auto merged = OpenOrDie(base);
  ExpectKeys(*merged, 3000);
  ASSERT_OK_AND_ASSIGN(auto entries, merged->ListEntries("param.00007"));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(entries[0].is_inline);
  EXPECT_TRUE(entries[0].data_file.starts_with("ocdbt.process_1/d/")) << entries[0].data_file;
  // The root holds only its own node file: large values were not copied.
  std::size_t root_files = 0;
  for (auto& entry : fs::directory_iterator(dir.path() / "d"))
    root_files += entry.is_regular_file();
  EXPECT_EQ(root_files, 1u);
  // A key in two children is refused.
  auto extra = OpenOrDie(base, "ocdbt.process_3/");
  ASSERT_OK(extra->Write(KeyOf(5), ToBytes("dup")));
  ASSERT_OK(extra->Commit());
  std::vector<std::string> clash = {"ocdbt.process_0/", "ocdbt.process_2/", "ocdbt.process_3/"};
  EXPECT_ERROR_CODE(MergeOcdbtDatabases(base, clash, "other/"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(MergeOcdbtDatabases(base, clash), ErrorCode::kInvalidArgument);
}

// The numbered manifest kind (TensorStore, io/manifest_cache.cc):
// `manifest.ocdbt` holds the configuration only; each generation G is a whole
// manifest in `manifest.<G as 16 hex digits>`, and the newest one counts.
TEST(OcdbtStoreTest, ReadsTheNumberedManifestKind) {
  std::shared_ptr<Store> base = NewMemoryStore();
  WriteKeys(*OpenOrDie(base), 10);
  ASSERT_OK_AND_ASSIGN(auto single, base->Read("manifest.ocdbt"));
  ASSERT_OK_AND_ASSIGN(auto manifest, ocdbt::DecodeManifest(single, "manifest.ocdbt"));
  ASSERT_OK_AND_ASSIGN(auto as_generation_1, ocdbt::EncodeManifest(manifest));
  ASSERT_OK(base->Write("manifest.0000000000000001", as_generation_1));
  ocdbt::Manifest config_only = manifest;
  config_only.config.manifest_kind = ocdbt::ManifestKind::kNumbered;
  ASSERT_OK_AND_ASSIGN(auto config_bytes, ocdbt::EncodeManifest(config_only));
  ASSERT_OK(base->Write("manifest.ocdbt", config_bytes));
  auto store = OpenOrDie(base);
  EXPECT_EQ(store->Summary().generation, 1u);
  ExpectKeys(*store, 10);
  ASSERT_OK(store->Write("x", ToBytes("y")));
  EXPECT_ERROR_CODE(store->Commit(), ErrorCode::kUnsupported);
  // A numbered file whose name disagrees with its generation is corrupt.
  ASSERT_OK(base->Delete("manifest.0000000000000001"));
  ASSERT_OK(base->Write("manifest.0000000000000002", as_generation_1));
  auto wrong = OcdbtStore::Open(base);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(wrong.error().message().find("manifest.0000000000000002"), std::string::npos);
  ASSERT_OK(base->Delete("manifest.0000000000000002"));
  EXPECT_ERROR_CODE(OcdbtStore::Open(base), ErrorCode::kNotFound);
}

// Every database in the fixtures: all keys listed, every value read, every
// checksum on the way checked.
void ReadEveryValue(const fs::path& root, std::size_t* databases, std::size_t* values) {
  for (auto it = fs::recursive_directory_iterator(root); it != fs::end(it); ++it) {
    if (it->path().filename() != "manifest.ocdbt") continue;
    fs::path db = it->path().parent_path();
    std::shared_ptr<Store> base = OpenFileStore(db);
    auto store = OpenOrDie(base);
    ASSERT_GE(store->Summary().generation, 1u) << db;
    auto keys = store->List("");
    // This case's root `d/` folder, which holds the root B+tree node, was
    // deleted on purpose; its per-process database is intact.
    if (db.filename() != "ocdbt.process_0" &&
        db.string().find("missing_pytree_data_dir_d") != std::string::npos) {
      ASSERT_FALSE(keys.has_value()) << db;
      EXPECT_EQ(keys.error().code(), ErrorCode::kNotFound);
      EXPECT_NE(keys.error().message().find("/d/"), std::string::npos);
      ++*databases;
      continue;
    }
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    EXPECT_EQ(keys->size(), store->Summary().num_keys) << db;
    for (const auto& key : *keys) {
      ASSERT_OK_AND_ASSIGN(auto value, store->Read(key));
      ++*values;
    }
    ++*databases;
  }
}

TEST(OcdbtFixtureTest, EveryOrbaxDatabaseOpensAndReadsBack) {
  std::size_t databases = 0, values = 0;
  for (const char* folder : {"orbax-compat", "orbax"}) {
    auto root = testing::FixturePath(folder);
    if (!root) GTEST_SKIP() << "fixtures absent";
    ReadEveryValue(*root, &databases, &values);
  }
  EXPECT_GE(databases, 100u);
  EXPECT_GE(values, 1000u);
}

TEST(OcdbtFixtureTest, ZarrKeysOfTheCompatibilityCheckpoint) {
  auto dir = testing::FixturePath(
      "orbax-compat/v1_checkpoints/composite_checkpoint/checkpoint_metadata_present/"
      "pytree_checkpointable_has_metadata/state");
  if (!dir) GTEST_SKIP() << "fixtures absent";
  auto store = OpenOrDie(OpenFileStore(*dir));
  ASSERT_OK_AND_ASSIGN(auto keys, store->List(""));
  EXPECT_EQ(keys, (std::vector<std::string>{"a/c/0", "a/zarr.json", "b.c/c/0", "b.c/zarr.json"}));
  ASSERT_OK_AND_ASSIGN(auto shard, store->Read("a/c/0"));
  EXPECT_EQ(shard.size(), 61u);  // tensorstore-formats.md B5
}

}  // namespace
}  // namespace stowage::kvstore
