// Walks a fault over every write, rename, fsync and delete of each kind of
// save (tests/fault/scenarios.h), in this process (the operation fails) and
// in a child process (it dies by SIGKILL at the operation), and kills saving
// children at random moments. After each interrupted save:
//   - the previous checkpoint restores bit-exactly;
//   - the new one is absent, or complete and bit-exact;
//   - a later save to the same place succeeds and leaves nothing behind.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "fault/child.h"
#include "fault/scenarios.h"
#include "stowage/fault_injection.h"
#include "testutil/testutil.h"

namespace stowage::fault {
namespace {

namespace fs = std::filesystem;
using kvstore::FaultAction;
using kvstore::FaultInjector;
using kvstore::FaultPlan;
using testing::NamesIn;

// Every entry below `root`, relative, sorted.
std::vector<std::string> EntriesBelow(const fs::path& root) {
  std::vector<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    entries.push_back(entry.path().lexically_relative(root).string());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

// A save whose fsyncs do not reach the disk (what they protect against, a
// power cut, is not what these tests simulate), so that the walks run fast.
Status SaveQuickly(const Scenario& scenario, const fs::path& directory, int version, bool force) {
  kvstore::ScopedFaultInjection scope(
      std::make_shared<FaultInjector>(FaultPlan{.real_fsync = false}));
  return scenario.save(directory, version, force);
}

// Where an interrupted save is checked: `previous` was committed (version
// 1) before the save of version 2 to `target` (== previous when replacing).
struct Layout {
  fs::path root, previous, target;
  bool replacing() const { return previous == target; }
};

Layout MakeLayout(const fs::path& root, bool replace) {
  return {root, root / "ckpt", replace ? root / "ckpt" : root / "next"};
}

// The checks of the file comment, after a save of version 2 that returned
// `saved` (or died: `saved` unset).
void CheckAfterInterruptedSave(const Scenario& scenario, const Layout& layout,
                               const std::optional<Status>& saved, const std::string& where) {
  SCOPED_TRACE(scenario.name + (layout.replacing() ? " replacing" : " beside") + ", " + where);
  bool save_ok = saved.has_value() && saved->has_value();
  if (!layout.replacing()) {
    auto previous = scenario.restored_version(layout.previous);
    ASSERT_TRUE(previous.has_value()) << previous.error().ToString();
    EXPECT_EQ(*previous, 1);
  }
  if (fs::exists(layout.target)) {
    auto got = scenario.restored_version(layout.target);
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
    if (layout.replacing()) {
      EXPECT_TRUE(*got == 1 || *got == 2) << *got;
      if (save_ok) {
        EXPECT_EQ(*got, 2);
      }
    } else {
      EXPECT_EQ(*got, 2);
    }
  } else {
    EXPECT_FALSE(save_ok) << "the save succeeded but " << layout.target << " is absent";
    EXPECT_FALSE(layout.replacing()) << "replacing lost the previous checkpoint";
  }
  // A later save cleans up whatever the interrupted one left.
  ASSERT_OK(SaveQuickly(scenario, layout.target, 3, /*force=*/true));
  auto latest = scenario.restored_version(layout.target);
  ASSERT_TRUE(latest.has_value()) << latest.error().ToString();
  EXPECT_EQ(*latest, 3);
  std::vector<std::string> want = {"ckpt"};
  if (!layout.replacing()) want.push_back("next");
  EXPECT_EQ(NamesIn(layout.root), want);
  for (const auto& entry : EntriesBelow(layout.root)) {
    EXPECT_EQ(entry.find(".stowage-tmp-"), std::string::npos) << entry;
  }
}

// Counts the storage operations of saving version 2 (as the walks do).
std::uint64_t CountOperations(const Scenario& scenario, bool replace) {
  testing::TempDir tmp(testing::MemoryTempRoot());
  Layout layout = MakeLayout(tmp.path(), replace);
  EXPECT_OK(SaveQuickly(scenario, layout.previous, 1, false));
  auto counter = std::make_shared<FaultInjector>(FaultPlan{.real_fsync = false});
  kvstore::ScopedFaultInjection scope(counter);
  EXPECT_OK(scenario.save(layout.target, 2, replace));
  return counter->operations();
}

class FaultWalkTest : public ::testing::TestWithParam<std::string> {
 protected:
  const Scenario& scenario() const { return *FindScenario(GetParam()); }
};

// The N-th operation fails (once, or from then on), for every N.
TEST_P(FaultWalkTest, FailingEachOperationLosesNothing) {
  for (bool replace : {false, true}) {
    std::uint64_t points = CountOperations(scenario(), replace);
    ASSERT_GT(points, 5u);
    for (bool persistent : {false, true}) {
      for (std::uint64_t n = 1;; ++n) {
        testing::TempDir tmp(testing::MemoryTempRoot());
        Layout layout = MakeLayout(tmp.path(), replace);
        ASSERT_OK(SaveQuickly(scenario(), layout.previous, 1, false));
        auto injector = std::make_shared<FaultInjector>(
            FaultPlan{.at = n, .persistent = persistent, .real_fsync = false});
        std::optional<Status> saved;
        {
          kvstore::ScopedFaultInjection scope(injector);
          saved = scenario().save(layout.target, 2, replace);
        }
        if (!injector->fired()) {  // past the last operation (the count varies by a few when
                                   // threads race to create one directory)
          EXPECT_OK(*saved);
          EXPECT_GE(n + 3, points);
          std::printf("%s, %s, %s: failed each of %llu operations\n", GetParam().c_str(),
                      replace ? "replacing" : "beside", persistent ? "persistent" : "once",
                      static_cast<unsigned long long>(n - 1));
          break;
        }
        CheckAfterInterruptedSave(scenario(), layout, saved,
                                  "failing operation " + std::to_string(n) + " of " +
                                      std::to_string(points) + (persistent ? " onwards" : ""));
        if (HasFailure()) return;
      }
    }
  }
}

// The process dies by SIGKILL at the N-th operation, for every N.
TEST_P(FaultWalkTest, KillingAtEachOperationLosesNothing) {
  for (bool replace : {false, true}) {
    std::uint64_t points = CountOperations(scenario(), replace);
    for (std::uint64_t n = 1;; ++n) {
      testing::TempDir tmp(testing::MemoryTempRoot());
      Layout layout = MakeLayout(tmp.path(), replace);
      ASSERT_OK(SaveQuickly(scenario(), layout.previous, 1, false));
      ChildOutcome outcome = RunChild({.scenario = scenario().name,
                                       .directory = layout.target,
                                       .version = 2,
                                       .force = replace,
                                       .kill_at = n});
      if (outcome.exited_ok) {  // past the last operation
        EXPECT_GE(n + 3, points);
        std::printf("%s, %s: killed at each of %llu operations\n", GetParam().c_str(),
                    replace ? "replacing" : "beside", static_cast<unsigned long long>(n - 1));
        break;
      }
      ASSERT_TRUE(outcome.killed) << "operation " << n << " of " << points << ": "
                                  << outcome.description;
      CheckAfterInterruptedSave(
          scenario(), layout, std::nullopt,
          "killed at operation " + std::to_string(n) + " of " + std::to_string(points));
      if (HasFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Saves, FaultWalkTest,
                         ::testing::Values("array", "tree", "ocdbt", "zarr3", "async_ocdbt",
                                           "multiprocess", "multiprocess_ocdbt"),
                         [](const auto& info) { return info.param; });

// SIGKILL at random moments of real (fsynced) saves, 200 runs over the
// scenarios; each run is checked as above.
TEST(RandomKillTest, KillingSavesAtRandomMomentsLosesNothing) {
  constexpr int kRuns = 200;
  std::mt19937 rng(20261129);
  const auto& scenarios = Scenarios();
  std::vector<double> durations;
  for (const auto& scenario : scenarios) {  // how long a whole save takes
    testing::TempDir tmp;
    ChildOutcome outcome = RunChild({.scenario = scenario.name,
                                     .directory = tmp.path() / "ckpt",
                                     .version = 2,
                                     .real_fsync = true});
    ASSERT_TRUE(outcome.exited_ok) << outcome.description;
    durations.push_back(outcome.save_seconds);
  }
  int landed_mid_save = 0;
  for (int run = 0; run < kRuns; ++run) {
    std::size_t which = static_cast<std::size_t>(run) % scenarios.size();
    const Scenario& scenario = scenarios[which];
    bool replace = (run / scenarios.size()) % 2 == 1;
    testing::TempDir tmp;
    Layout layout = MakeLayout(tmp.path(), replace);
    ASSERT_OK(SaveQuickly(scenario, layout.previous, 1, false));
    double delay = std::uniform_real_distribution<double>(0, 1.2 * durations[which])(rng);
    ChildOutcome outcome = RunChild({.scenario = scenario.name,
                                     .directory = layout.target,
                                     .version = 2,
                                     .force = replace,
                                     .real_fsync = true,
                                     .kill_after_seconds = delay});
    ASSERT_TRUE(outcome.killed || outcome.exited_ok) << outcome.description;
    landed_mid_save += outcome.killed;
    CheckAfterInterruptedSave(
        scenario, layout, std::nullopt,
        "run " + std::to_string(run) + ", killed after " + std::to_string(delay) + " s");
    if (HasFailure()) return;
  }
  EXPECT_GT(landed_mid_save, kRuns / 2);  // most kills interrupt a save
  std::printf("%d of %d random kills landed before the save finished\n", landed_mid_save, kRuns);
}

}  // namespace
}  // namespace stowage::fault
