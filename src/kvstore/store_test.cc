// One battery run against every store: the memory store is the reference.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "base/bytes.h"
#include "kvstore/file_ops.h"
#include "stowage/kvstore.h"
#include "testutil/testutil.h"

namespace stowage::kvstore {
namespace {

enum class Kind { kMemory, kFile, kFileNoSync, kFileWriteback };

class StoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Kind::kMemory:
        store_ = NewMemoryStore();
        break;
      case Kind::kFile:
        store_ = OpenFileStore(dir_.path() / "root");
        break;
      case Kind::kFileNoSync:
        store_ = OpenFileStore(dir_.path() / "root", {.fsync = FsyncPolicy::kNone});
        break;
      case Kind::kFileWriteback:
        store_ = OpenFileStore(dir_.path() / "root", {.fsync = FsyncPolicy::kStartWriteback});
        break;
    }
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, WriteThenReadReturnsTheBytes) {
  ASSERT_OK(store_->Write("a/b/.zarray", ToBytes("{}")));
  ASSERT_OK_AND_ASSIGN(auto value, store_->Read("a/b/.zarray"));
  EXPECT_EQ(AsStringView(value), "{}");
  ASSERT_OK(store_->Write("a/b/.zarray", ToBytes("{\"x\":1}"), {.atomic = true}));
  ASSERT_OK_AND_ASSIGN(value, store_->Read("a/b/.zarray"));
  EXPECT_EQ(AsStringView(value), "{\"x\":1}");
}

TEST_P(StoreTest, EmptyValueRoundTrips) {
  ASSERT_OK(store_->Write("empty", {}));
  ASSERT_OK_AND_ASSIGN(auto value, store_->Read("empty"));
  EXPECT_TRUE(value.empty());
}

TEST_P(StoreTest, MissingKeyIsNotFoundAndNamesTheKey) {
  auto result = store_->Read("no/such");
  EXPECT_ERROR_CODE(result, ErrorCode::kNotFound);
  EXPECT_NE(result.error().message().find("no/such"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(bool exists, store_->Exists("no/such"));
  EXPECT_FALSE(exists);
}

TEST_P(StoreTest, ReadRefusesValuesOverTheLimit) {
  ASSERT_OK(store_->Write("big", ToBytes("0123456789")));
  EXPECT_ERROR_CODE(store_->Read("big", {.max_bytes = 9}), ErrorCode::kDataLoss);
  std::vector<std::byte> out(9);
  EXPECT_ERROR_CODE(store_->ReadInto("big", out), ErrorCode::kDataLoss);
  out.resize(10);
  ASSERT_OK(store_->ReadInto("big", out));
  EXPECT_EQ(AsStringView(out), "0123456789");
}

TEST_P(StoreTest, ListIsSortedAndFilteredByPrefix) {
  for (const char* key : {"x/1", "x/0", "y/0", "x.z/0"}) ASSERT_OK(store_->Write(key, {}));
  ASSERT_OK_AND_ASSIGN(auto keys, store_->List("x/"));
  EXPECT_EQ(keys, (std::vector<std::string>{"x/0", "x/1"}));
  ASSERT_OK_AND_ASSIGN(keys, store_->List(""));
  EXPECT_EQ(keys.size(), 4u);
}

TEST_P(StoreTest, DeleteRemovesAndIsIdempotent) {
  ASSERT_OK(store_->Write("k", ToBytes("v")));
  ASSERT_OK(store_->Delete("k"));
  ASSERT_OK(store_->Delete("k"));
  EXPECT_ERROR_CODE(store_->Read("k"), ErrorCode::kNotFound);
}

TEST_P(StoreTest, RejectsEscapingKeys) {
  for (const char* key : {"", "../x", "a/../b", "/abs", "a//b", "a/./b"}) {
    EXPECT_ERROR_CODE(store_->Write(key, {}), ErrorCode::kInvalidArgument);
    EXPECT_ERROR_CODE(store_->Read(key), ErrorCode::kInvalidArgument);
  }
}

TEST_P(StoreTest, ConcurrentWritersToDistinctKeys) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string key = "c/" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_OK(store_->Write(key, ToBytes(key)));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_OK_AND_ASSIGN(auto keys, store_->List("c/"));
  EXPECT_EQ(keys.size(), 100u);
  ASSERT_OK_AND_ASSIGN(auto value, store_->Read("c/3/24"));
  EXPECT_EQ(AsStringView(value), "c/3/24");
}

TEST_P(StoreTest, ReadRangeReturnsTheSliceAndRejectsRangesPastTheEnd) {
  ASSERT_OK(store_->Write("d/file", ToBytes("0123456789")));
  ASSERT_OK_AND_ASSIGN(auto slice, store_->ReadRange("d/file", 3, 4));
  EXPECT_EQ(AsStringView(slice), "3456");
  ASSERT_OK_AND_ASSIGN(slice, store_->ReadRange("d/file", 10, 0));
  EXPECT_TRUE(slice.empty());
  auto past = store_->ReadRange("d/file", 8, 3);
  EXPECT_ERROR_CODE(past, ErrorCode::kDataLoss);
  EXPECT_NE(past.error().message().find("d/file"), std::string::npos);
  EXPECT_ERROR_CODE(store_->ReadRange("d/file", ~std::uint64_t{0}, 2), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(store_->ReadRange("d/none", 0, 1), ErrorCode::kNotFound);
  // A rewrite is seen by later range reads.
  ASSERT_OK(store_->Write("d/file", ToBytes("abcdefghij")));
  ASSERT_OK_AND_ASSIGN(slice, store_->ReadRange("d/file", 0, 2));
  EXPECT_EQ(AsStringView(slice), "ab");
}

TEST_P(StoreTest, ConcurrentAppendsLandInDisjointRanges) {
  ASSERT_OK_AND_ASSIGN(auto writer, store_->OpenAppend("d/appended"));
  std::vector<std::thread> threads;
  std::vector<std::uint64_t> offsets(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::string blob(100 + t, static_cast<char>('a' + t));
      auto offset = writer->Append(ToBytes(blob));
      EXPECT_OK(offset);
      if (offset) offsets[t] = *offset;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(writer->size(), 8u * 100 + 28);
  ASSERT_OK(writer->Close());
  for (int t = 0; t < 8; ++t) {
    ASSERT_OK_AND_ASSIGN(auto blob, store_->ReadRange("d/appended", offsets[t], 100 + t));
    EXPECT_EQ(AsStringView(blob), std::string(100 + t, static_cast<char>('a' + t)));
  }
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreTest,
                         ::testing::Values(Kind::kMemory, Kind::kFile, Kind::kFileNoSync,
                                           Kind::kFileWriteback));

TEST(FileStoreTest, AtomicWriteLeavesNoTemporaryBehind) {
  testing::TempDir dir;
  auto store = OpenFileStore(dir.path());
  ASSERT_OK(store->Write("m/.zarray", ToBytes("{}"), {.atomic = true}));
  int files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path() / "m")) {
    EXPECT_EQ(entry.path().filename(), ".zarray");
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(FileStoreTest, WriteIntoUnwritableLocationIsAnIoErrorNamingThePath) {
  testing::TempDir dir;
  // A regular file where a directory is needed.
  ASSERT_OK(WriteFile(dir.path() / "blocker", ToBytes("x"), false));
  auto store = OpenFileStore(dir.path());
  auto status = store->Write("blocker/child", ToBytes("v"));
  ASSERT_FALSE(status.has_value());
  EXPECT_NE(status.error().message().find("blocker"), std::string::npos);
}

}  // namespace
}  // namespace stowage::kvstore
