// FaultInjector: counting, the planned fault (once or from then on), torn
// writes, the kill action, the store wrapper, the file primitives, and an
// OCDBT commit interrupted at every write.
#include "stowage/fault_injection.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "base/bytes.h"
#include "kvstore/file_ops.h"
#include "stowage/ocdbt.h"
#include "testutil/testutil.h"

namespace stowage::kvstore {
namespace {

namespace fs = std::filesystem;

TEST(FaultInjectorTest, CountsOnlyThePlannedKindsOfOperation) {
  FaultInjector injector(FaultPlan{.ops = static_cast<std::uint8_t>(FaultOp::kWrite) |
                                          static_cast<std::uint8_t>(FaultOp::kFsync)});
  EXPECT_OK(injector.Before(FaultOp::kWrite, "a"));
  EXPECT_OK(injector.Before(FaultOp::kDelete, "b"));
  EXPECT_OK(injector.Before(FaultOp::kFsync, "c"));
  EXPECT_OK(injector.Before(FaultOp::kRename, "d"));
  EXPECT_EQ(injector.operations(), 2u);
  EXPECT_FALSE(injector.fired());
}

TEST(FaultInjectorTest, FailsTheNthOperationOnceNamingIt) {
  FaultInjector injector(FaultPlan{.at = 2});
  EXPECT_OK(injector.Before(FaultOp::kWrite, "one"));
  auto failed = injector.Before(FaultOp::kRename, "two");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kIo);
  EXPECT_NE(failed.error().message().find("rename #2 of two"), std::string::npos)
      << failed.error().message();
  EXPECT_TRUE(injector.fired());
  EXPECT_OK(injector.Before(FaultOp::kWrite, "three"));
}

TEST(FaultInjectorTest, PersistentFaultsFailEveryLaterOperation) {
  FaultInjector injector(FaultPlan{.at = 2, .persistent = true});
  EXPECT_OK(injector.Before(FaultOp::kWrite, "one"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_ERROR_CODE(injector.Before(FaultOp::kDelete, "later"), ErrorCode::kIo);
  }
}

TEST(FaultInjectorTest, TheTornCallbackRunsOnlyAtTheFault) {
  FaultInjector injector(FaultPlan{.at = 2});
  int torn = 0;
  EXPECT_OK(injector.Before(FaultOp::kWrite, "one", [&] { ++torn; }));
  EXPECT_FALSE(injector.Before(FaultOp::kWrite, "two", [&] { ++torn; }).has_value());
  EXPECT_EQ(torn, 1);
}

TEST(FaultInjectorDeathTest, KillActionKillsTheProcess) {
  EXPECT_EXIT(
      {
        FaultInjector injector(FaultPlan{.at = 1, .action = FaultAction::kKill});
        (void)injector.Before(FaultOp::kFsync, "x");
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

TEST(WithFaultsTest, AFailedPlainWriteIsTornAndAnAtomicOneLeavesTheOldValue) {
  std::shared_ptr<Store> memory = NewMemoryStore();
  ASSERT_OK(memory->Write("k", AsBytes(std::string_view("old!"))));
  auto injector = std::make_shared<FaultInjector>(FaultPlan{.at = 1, .persistent = true});
  auto store = WithFaults(memory, injector);
  EXPECT_ERROR_CODE(store->Write("k", AsBytes(std::string_view("new value")), {.atomic = true}),
                    ErrorCode::kIo);
  ASSERT_OK_AND_ASSIGN(Bytes kept, store->Read("k"));
  EXPECT_EQ(AsStringView(kept), "old!");
  EXPECT_ERROR_CODE(store->Write("k", AsBytes(std::string_view("new value!"))), ErrorCode::kIo);
  ASSERT_OK_AND_ASSIGN(Bytes torn, store->Read("k"));
  EXPECT_EQ(AsStringView(torn), "new v");
  EXPECT_ERROR_CODE(store->Delete("k"), ErrorCode::kIo);
  EXPECT_TRUE(*store->Exists("k"));
}

TEST(WithFaultsTest, AppendsAndCloseAreCounted) {
  auto injector = std::make_shared<FaultInjector>();
  auto store = WithFaults(NewMemoryStore(), injector);
  ASSERT_OK_AND_ASSIGN(auto writer, store->OpenAppend("data"));
  ASSERT_OK(writer->Append(AsBytes(std::string_view("ab"))));
  ASSERT_OK(writer->Append(AsBytes(std::string_view("cd"))));
  ASSERT_OK(writer->Close());
  EXPECT_EQ(injector->operations(), 3u);
  ASSERT_OK_AND_ASSIGN(Bytes value, store->Read("data"));
  EXPECT_EQ(AsStringView(value), "abcd");
}

TEST(ScopedFaultInjectionTest, AtomicReplaceFailingAtAnyStepKeepsTheOldFile) {
  testing::TempDir tmp;
  fs::path file = tmp.path() / "f";
  ASSERT_OK(WriteFile(file, AsBytes(std::string_view("old")), false));
  for (std::uint64_t n = 1;; ++n) {
    auto injector = std::make_shared<FaultInjector>(FaultPlan{.at = n});
    Status written = OkStatus();
    {
      ScopedFaultInjection scope(injector);
      written = WriteFileAtomically(file, AsBytes(std::string_view("new contents")), true);
    }
    if (!injector->fired()) {
      EXPECT_OK(written);
      EXPECT_EQ(testing::ReadFileOrDie(file), "new contents");
      EXPECT_GE(n, 4u);  // write, fsync, rename, fsync of the directory
      break;
    }
    std::string now = testing::ReadFileOrDie(file);
    EXPECT_TRUE(now == "old" || (now == "new contents" && written.has_value() == false))
        << "fault " << n << ": " << now;
    std::size_t entries = std::distance(fs::directory_iterator(tmp.path()), {});
    EXPECT_EQ(entries, 1u) << "fault " << n << " left a temporary file";
    ASSERT_OK(WriteFile(file, AsBytes(std::string_view("old")), false));
  }
}

TEST(ScopedFaultInjectionTest, NothingIsCountedOnceTheScopeEnds) {
  testing::TempDir tmp;
  auto injector = std::make_shared<FaultInjector>();
  { ScopedFaultInjection scope(injector); }
  ASSERT_OK(WriteFile(tmp.path() / "f", AsBytes(std::string_view("x")), true));
  EXPECT_EQ(injector->operations(), 0u);
}

std::string KeyOf(int i) { return "param." + std::to_string(i); }
std::string ValueOf(int generation, int i) {
  std::string value = "g" + std::to_string(generation) + " value " + std::to_string(i);
  if (i % 3 == 0) value.append(3000, static_cast<char>('a' + generation));  // to a data file
  return value;
}

// Whether `store` holds exactly generation `generation`'s keys and values.
bool HoldsGeneration(const OcdbtStore& store, int generation, int count) {
  auto keys = store.List("");
  if (!keys.has_value() || keys->size() != static_cast<std::size_t>(count)) return false;
  for (int i = 0; i < count; ++i) {
    auto value = store.Read(KeyOf(i));
    if (!value.has_value() || AsStringView(*value) != ValueOf(generation, i)) return false;
  }
  return true;
}

TEST(WithFaultsTest, AnOcdbtCommitInterruptedAnywhereLeavesTheLastGeneration) {
  constexpr int kKeys = 40;
  for (std::uint64_t n = 1;; ++n) {
    std::shared_ptr<Store> memory = NewMemoryStore();
    {
      auto first = OcdbtStore::Open(memory).value();
      for (int i = 0; i < kKeys; ++i) ASSERT_OK(first->Write(KeyOf(i), ToBytes(ValueOf(1, i))));
      ASSERT_OK(first->Commit());
    }
    auto injector = std::make_shared<FaultInjector>(FaultPlan{.at = n, .persistent = true});
    Status committed = OkStatus();
    {
      auto second = OcdbtStore::Open(WithFaults(memory, injector)).value();
      for (int i = 0; i < kKeys && committed.has_value(); ++i) {
        committed = second->Write(KeyOf(i), ToBytes(ValueOf(2, i)));  // large values: data files
      }
      if (committed.has_value()) committed = second->Commit();
    }
    auto reopened = OcdbtStore::Open(memory);
    ASSERT_TRUE(reopened.has_value()) << "fault " << n << ": " << reopened.error().ToString();
    if (!injector->fired()) {
      EXPECT_OK(committed);
      EXPECT_TRUE(HoldsGeneration(**reopened, 2, kKeys));
      EXPECT_GT(n, 2u);
      break;
    }
    EXPECT_FALSE(committed.has_value()) << "fault " << n << " was not reported";
    EXPECT_TRUE(HoldsGeneration(**reopened, 1, kKeys) || HoldsGeneration(**reopened, 2, kKeys))
        << "fault " << n;
    // The database still takes commits.
    ASSERT_OK((*reopened)->Write(KeyOf(0), ToBytes(ValueOf(3, 0))));
    ASSERT_OK((*reopened)->Commit());
  }
}

}  // namespace
}  // namespace stowage::kvstore
