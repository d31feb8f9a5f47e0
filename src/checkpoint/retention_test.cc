// Retention (DecideRetention, BestStep), step folder names, and the issue's
// proof: CheckpointManager runs of up to 1 000 steps with metrics under
// several policies, whose surviving steps (listed and on disk) equal those of
// a reference model written here from Orbax's preservation policies
// (orbax `_src/checkpoint_managers/preservation_policy.py`) plus stowage's
// rule that the latest and the best step are always kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "stowage/checkpoint_manager.h"
#include "testutil/testutil.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;
using testing::NamesIn;
using json = nlohmann::ordered_json;
using Clock = std::chrono::system_clock;
using std::chrono::seconds;

const Clock::time_point kEpoch = Clock::time_point(seconds(1'700'000'000));

StepInfo Info(std::int64_t step, std::int64_t at_seconds,
              std::optional<json> metrics = std::nullopt) {
  return {step, kEpoch + seconds(at_seconds), std::move(metrics)};
}

// Steps whose reason is not kNone.
std::vector<std::int64_t> KeptSteps(const std::vector<StepInfo>& infos,
                                    const std::vector<KeepReason>& reasons) {
  EXPECT_EQ(infos.size(), reasons.size());
  std::vector<std::int64_t> kept;
  for (std::size_t i = 0; i < infos.size() && i < reasons.size(); ++i) {
    if (reasons[i] != KeepReason::kNone) kept.push_back(infos[i].step);
  }
  return kept;
}

// ---------------------------------------------------------------------------
// DecideRetention and BestStep on hand-made lists.

// Without max_to_keep every step is kept, for lack of a policy.
TEST(DecideRetentionTest, NoMaxToKeepKeepsEverything) {
  std::vector<StepInfo> infos = {Info(1, 0), Info(2, 1), Info(3, 2)};
  RetentionOptions options;
  options.keep_period = 2;
  auto reasons = DecideRetention(infos, options);
  ASSERT_EQ(reasons.size(), 3u);
  for (auto reason : reasons) EXPECT_TRUE(Has(reason, KeepReason::kNoPolicy));
  EXPECT_TRUE(DecideRetention({}, options).empty());
}

// max_to_keep alone keeps the newest N, the newest marked as latest too.
TEST(DecideRetentionTest, MaxToKeepKeepsTheNewest) {
  std::vector<StepInfo> infos = {Info(1, 0), Info(2, 1), Info(4, 2), Info(8, 3), Info(9, 4)};
  RetentionOptions options;
  options.max_to_keep = 2;
  auto reasons = DecideRetention(infos, options);
  EXPECT_EQ(KeptSteps(infos, reasons), (std::vector<std::int64_t>{8, 9}));
  EXPECT_TRUE(Has(reasons[3], KeepReason::kMaxToKeep));
  EXPECT_FALSE(Has(reasons[3], KeepReason::kLatest));
  EXPECT_TRUE(Has(reasons[4], KeepReason::kLatest));
  EXPECT_TRUE(Has(reasons[4], KeepReason::kMaxToKeep));
  // Fewer steps than max_to_keep: all kept.
  options.max_to_keep = 10;
  EXPECT_EQ(KeptSteps(infos, DecideRetention(infos, options)),
            (std::vector<std::int64_t>{1, 2, 4, 8, 9}));
}

// keep_period keeps multiples of the period beside the newest N.
TEST(DecideRetentionTest, KeepPeriodKeepsMultiples) {
  std::vector<StepInfo> infos;
  for (int s = 1; s <= 9; ++s) infos.push_back(Info(s, s));
  RetentionOptions options;
  options.max_to_keep = 1;
  options.keep_period = 4;
  auto reasons = DecideRetention(infos, options);
  EXPECT_EQ(KeptSteps(infos, reasons), (std::vector<std::int64_t>{4, 8, 9}));
  EXPECT_EQ(reasons[3], KeepReason::kKeepPeriod);
  EXPECT_FALSE(Has(reasons[8], KeepReason::kKeepPeriod));
}

// keep_time_interval keeps the oldest, then each step at least the interval
// after the previous one kept that way (measured from kept steps, not from
// their neighbours).
TEST(DecideRetentionTest, TimeIntervalKeepsSpacedSteps) {
  std::vector<StepInfo> infos = {Info(1, 0),  Info(2, 10), Info(3, 20), Info(4, 25),
                                 Info(5, 40), Info(6, 49), Info(7, 50), Info(8, 51)};
  RetentionOptions options;
  options.max_to_keep = 1;
  options.keep_time_interval = seconds(25);
  auto reasons = DecideRetention(infos, options);
  // 0 kept; 25 is 25 after it (>=); 40 only 15 after 25; 50 is 25 after 25.
  EXPECT_EQ(KeptSteps(infos, reasons), (std::vector<std::int64_t>{1, 4, 7, 8}));
  EXPECT_TRUE(Has(reasons[0], KeepReason::kTimeInterval));
  EXPECT_TRUE(Has(reasons[3], KeepReason::kTimeInterval));
  EXPECT_TRUE(Has(reasons[6], KeepReason::kTimeInterval));
  EXPECT_EQ(reasons[7], KeepReason::kLatest | KeepReason::kMaxToKeep);
}

json Loss(double loss) { return json{{"loss", loss}}; }

// best_fn with kMax keeps the N largest scores; the latest survives anyway;
// steps without metrics are kept only under keep_checkpoints_without_metrics.
TEST(DecideRetentionTest, BestMaxKeepsHighestScores) {
  std::vector<StepInfo> infos = {Info(1, 0, Loss(5)), Info(2, 1, Loss(9)), Info(3, 2),
                                 Info(4, 3, Loss(7)), Info(5, 4, Loss(1)), Info(6, 5, Loss(0))};
  RetentionOptions options;
  options.max_to_keep = 2;
  options.best_fn = MetricNamed("loss");
  options.best_mode = BestMode::kMax;
  auto reasons = DecideRetention(infos, options);
  EXPECT_EQ(KeptSteps(infos, reasons), (std::vector<std::int64_t>{2, 3, 4, 6}));
  EXPECT_TRUE(Has(reasons[1], KeepReason::kBest));
  EXPECT_TRUE(Has(reasons[1], KeepReason::kMaxToKeep));
  EXPECT_EQ(reasons[2], KeepReason::kWithoutMetrics);
  EXPECT_EQ(reasons[3], KeepReason::kMaxToKeep);
  EXPECT_EQ(reasons[5], KeepReason::kLatest);
  options.keep_checkpoints_without_metrics = false;
  EXPECT_EQ(KeptSteps(infos, DecideRetention(infos, options)),
            (std::vector<std::int64_t>{2, 4, 6}));
  EXPECT_EQ(BestStep(infos, options), 2);
}

// best_fn with kMin keeps the N smallest scores.
TEST(DecideRetentionTest, BestMinKeepsLowestScores) {
  std::vector<StepInfo> infos = {Info(1, 0, Loss(5)), Info(2, 1, Loss(9)), Info(3, 2, Loss(2)),
                                 Info(4, 3, Loss(7)), Info(5, 4, Loss(1)), Info(6, 5, Loss(8))};
  RetentionOptions options;
  options.max_to_keep = 2;
  options.best_fn = MetricNamed("loss");
  options.best_mode = BestMode::kMin;
  auto reasons = DecideRetention(infos, options);
  EXPECT_EQ(KeptSteps(infos, reasons), (std::vector<std::int64_t>{3, 5, 6}));
  EXPECT_TRUE(Has(reasons[4], KeepReason::kBest));
  EXPECT_EQ(BestStep(infos, options), 5);
}

// A step whose metrics lack the metric scores NaN: worst in either mode, so
// never the best while another step has a score.
TEST(DecideRetentionTest, NaNScoresRankLowest) {
  for (BestMode mode : {BestMode::kMax, BestMode::kMin}) {
    SCOPED_TRACE(mode == BestMode::kMax ? "max" : "min");
    std::vector<StepInfo> infos = {Info(1, 0, Loss(4)), Info(2, 1, json{{"acc", 1}}),
                                   Info(3, 2, Loss(3)), Info(4, 3, json{{"loss", "x"}}),
                                   Info(5, 4, Loss(6)), Info(6, 5, json::object())};
    RetentionOptions options;
    options.max_to_keep = 3;
    options.best_fn = MetricNamed("loss");
    options.best_mode = mode;
    EXPECT_EQ(KeptSteps(infos, DecideRetention(infos, options)),
              (std::vector<std::int64_t>{1, 3, 5, 6}));
    EXPECT_EQ(BestStep(infos, options), mode == BestMode::kMax ? 5 : 3);
  }
  EXPECT_TRUE(std::isnan(MetricNamed("loss")(json{{"acc", 1}})));
  EXPECT_EQ(MetricNamed("loss")(Loss(2.5)), 2.5);
}

// Equal scores: the later step is the better one (Orbax's stable sort).
TEST(DecideRetentionTest, TiesFavourTheLaterStep) {
  for (BestMode mode : {BestMode::kMax, BestMode::kMin}) {
    SCOPED_TRACE(mode == BestMode::kMax ? "max" : "min");
    std::vector<StepInfo> infos = {Info(1, 0, Loss(3)), Info(2, 1, Loss(3)), Info(3, 2, Loss(3)),
                                   Info(4, 3, Loss(3))};
    RetentionOptions options;
    options.max_to_keep = 2;
    options.best_fn = MetricNamed("loss");
    options.best_mode = mode;
    EXPECT_EQ(KeptSteps(infos, DecideRetention(infos, options)), (std::vector<std::int64_t>{3, 4}));
    EXPECT_EQ(BestStep(infos, options), 4);
    infos.push_back(Info(5, 4, Loss(mode == BestMode::kMax ? 1 : 5)));
    EXPECT_EQ(BestStep(infos, options), 4);
    EXPECT_EQ(KeptSteps(infos, DecideRetention(infos, options)),
              (std::vector<std::int64_t>{3, 4, 5}));
  }
}

// max_to_keep 0 keeps nothing by rank, but the latest and the best stay.
TEST(DecideRetentionTest, LatestAndBestAlwaysSurvive) {
  std::vector<StepInfo> infos = {Info(1, 0, Loss(1)), Info(2, 1, Loss(8)), Info(3, 2, Loss(2))};
  RetentionOptions options;
  options.max_to_keep = 0;
  options.best_fn = MetricNamed("loss");
  auto reasons = DecideRetention(infos, options);
  EXPECT_EQ(KeptSteps(infos, reasons), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(Has(reasons[1], KeepReason::kBest));
  EXPECT_TRUE(Has(reasons[2], KeepReason::kLatest));
  options.best_fn = nullptr;
  EXPECT_EQ(KeptSteps(infos, DecideRetention(infos, options)), (std::vector<std::int64_t>{3}));
}

// DecideRetention depends only on its arguments.
TEST(DecideRetentionTest, IsDeterministic) {
  std::vector<StepInfo> infos;
  for (int s = 1; s <= 50; ++s) infos.push_back(Info(s, 3 * s, Loss((s * 37) % 11)));
  RetentionOptions options;
  options.max_to_keep = 4;
  options.keep_period = 7;
  options.keep_time_interval = seconds(20);
  options.best_fn = MetricNamed("loss");
  options.best_mode = BestMode::kMin;
  EXPECT_EQ(DecideRetention(infos, options), DecideRetention(infos, options));
}

// BestStep: the latest without best_fn, none without steps or scored steps.
TEST(BestStepTest, LatestWithoutBestFnAndNoneWithoutCandidates) {
  RetentionOptions options;
  EXPECT_EQ(BestStep({}, options), std::nullopt);
  std::vector<StepInfo> infos = {Info(3, 0, Loss(9)), Info(7, 1, Loss(1))};
  EXPECT_EQ(BestStep(infos, options), 7);
  options.best_fn = MetricNamed("loss");
  EXPECT_EQ(BestStep(infos, options), 3);
  EXPECT_EQ(BestStep({Info(1, 0), Info(2, 1)}, options), std::nullopt);
}

// KeepReasonNames lists the reasons, comma separated.
TEST(KeepReasonNamesTest, NamesEachReason) {
  EXPECT_EQ(KeepReasonNames(KeepReason::kNone), "");
  EXPECT_EQ(KeepReasonNames(KeepReason::kLatest | KeepReason::kBest | KeepReason::kKeepPeriod),
            "latest, best, keep_period");
  std::set<std::string> names;
  for (std::uint8_t bit = 1; bit <= 64; bit <<= 1) {
    std::string name = KeepReasonNames(static_cast<KeepReason>(bit));
    EXPECT_FALSE(name.empty()) << int{bit};
    EXPECT_EQ(name.find(','), std::string::npos) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 7u);
}

// ---------------------------------------------------------------------------
// Step folder names (orbax `_src/path/step.py` standard name format).

// Plain names: canonical decimal only.
TEST(StepNameFormatTest, PlainNames) {
  StepNameFormat format;
  EXPECT_EQ(format.Name(12), "12");
  EXPECT_EQ(format.Name(0), "0");
  EXPECT_EQ(format.Parse("12"), 12);
  EXPECT_EQ(format.Parse("0"), 0);
  EXPECT_EQ(format.Parse("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"012", "12.orbax-checkpoint-tmp", "12.orbax-checkpoint-tmp-1700000000",
                          "metadata", "-3", "99999999999999999999", "9223372036854775808", "",
                          "+12", "12 ", " 12", "1e3", "ckpt_12", "12a", "0x1"}) {
    EXPECT_EQ(format.Parse(bad), std::nullopt) << bad;
  }
}

// Fixed length: zero padded to the length, longer numbers unpadded.
TEST(StepNameFormatTest, FixedLength) {
  StepNameFormat format{.fixed_length = 4};
  EXPECT_EQ(format.Name(12), "0012");
  EXPECT_EQ(format.Name(0), "0000");
  EXPECT_EQ(format.Name(12345), "12345");
  EXPECT_EQ(format.Parse("0012"), 12);
  EXPECT_EQ(format.Parse("0000"), 0);
  EXPECT_EQ(format.Parse("12345"), 12345);
  for (const char* bad : {"12", "012", "00012", "0012.orbax-checkpoint-tmp", "metadata"}) {
    EXPECT_EQ(format.Parse(bad), std::nullopt) << bad;
  }
}

// A prefix joins the number with an underscore.
TEST(StepNameFormatTest, Prefix) {
  StepNameFormat format{.prefix = "ckpt"};
  EXPECT_EQ(format.Name(12), "ckpt_12");
  EXPECT_EQ(format.Parse("ckpt_12"), 12);
  for (const char* bad : {"12", "ckpt12", "ckpt_", "ckpt_012", "other_12",
                          "ckpt_12.orbax-checkpoint-tmp", "ckpt_-1", "xckpt_12"}) {
    EXPECT_EQ(format.Parse(bad), std::nullopt) << bad;
  }
  StepNameFormat padded{.prefix = "ckpt", .fixed_length = 6};
  EXPECT_EQ(padded.Name(42), "ckpt_000042");
  EXPECT_EQ(padded.Parse("ckpt_000042"), 42);
  EXPECT_EQ(padded.Parse("ckpt_42"), std::nullopt);
}

// ---------------------------------------------------------------------------
// The simulated runs.

// A reference model of one policy, independent of DecideRetention.
struct ReferencePolicy {
  std::optional<std::int64_t> max_to_keep;
  std::optional<std::int64_t> keep_period;
  std::optional<std::int64_t> interval_seconds;
  std::string metric;  // empty: no best_fn
  bool minimize = false;
  bool keep_without_metrics = true;
};

struct RefStep {
  std::int64_t step;
  Clock::time_point time;
  std::optional<json> metrics;
};

// The metric as best_fn sees it; NaN when absent or not a number.
double Score(const RefStep& s, const std::string& metric) {
  if (!s.metrics || !s.metrics->is_object()) return std::nan("");
  auto it = s.metrics->find(metric);
  if (it == s.metrics->end() || !it->is_number()) return std::nan("");
  return it->get<double>();
}

// Larger is better; NaN below everything.
double Rank(const RefStep& s, const ReferencePolicy& p) {
  double score = Score(s, p.metric);
  if (std::isnan(score)) return -std::numeric_limits<double>::infinity();
  return p.minimize ? -score : score;
}

// The steps surviving retention over `list` (ascending).
std::vector<RefStep> ReferenceRetain(const std::vector<RefStep>& list, const ReferencePolicy& p) {
  if (!p.max_to_keep || list.empty()) return list;
  const std::size_t n = list.size();
  const std::size_t k = static_cast<std::size_t>(*p.max_to_keep);
  std::vector<bool> keep(n, false);
  keep[n - 1] = true;  // latest
  if (p.metric.empty()) {
    for (std::size_t i = n > k ? n - k : 0; i < n; ++i) keep[i] = true;
  } else {
    std::vector<std::size_t> scored;
    for (std::size_t i = 0; i < n; ++i) {
      if (list[i].metrics) {
        scored.push_back(i);
      } else if (p.keep_without_metrics) {
        keep[i] = true;
      }
    }
    // Best: highest rank, ties to the later step.
    if (!scored.empty()) {
      std::size_t best = scored[0];
      for (std::size_t i : scored) {
        if (Rank(list[i], p) >= Rank(list[best], p)) best = i;
      }
      keep[best] = true;
    }
    if (n <= k) {
      keep.assign(n, true);
    } else {
      std::stable_sort(scored.begin(), scored.end(), [&](std::size_t a, std::size_t b) {
        return Rank(list[a], p) < Rank(list[b], p);
      });
      for (std::size_t j = scored.size() > k ? scored.size() - k : 0; j < scored.size(); ++j) {
        keep[scored[j]] = true;
      }
    }
  }
  if (p.keep_period) {
    for (std::size_t i = 0; i < n; ++i) keep[i] = keep[i] || list[i].step % *p.keep_period == 0;
  }
  if (p.interval_seconds) {
    Clock::time_point last = list[0].time;
    keep[0] = true;
    for (std::size_t i = 1; i < n; ++i) {
      if (list[i].time - last >= seconds(*p.interval_seconds)) {
        keep[i] = true;
        last = list[i].time;
      }
    }
  }
  std::vector<RefStep> kept;
  for (std::size_t i = 0; i < n; ++i) {
    if (keep[i]) kept.push_back(list[i]);
  }
  return kept;
}

// Deterministic pseudo-random bits of a step (splitmix64).
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct SimRun {
  std::string name;
  int steps = 0;
  ReferencePolicy policy;
  std::int64_t save_interval_steps = 1;
  std::set<std::int64_t> save_on_steps;
  StepNameFormat names;
  bool async = false;
  // The metrics saved with a step (none: saved without).
  std::function<std::optional<json>(std::int64_t)> metrics;
};

// The folder name of a step, written out here rather than by StepNameFormat.
std::string FolderName(const SimRun& run, std::int64_t step) {
  std::string digits = std::to_string(step);
  if (run.names.fixed_length && static_cast<int>(digits.size()) < *run.names.fixed_length) {
    digits.insert(0, *run.names.fixed_length - digits.size(), '0');
  }
  return run.names.prefix.empty() ? digits : run.names.prefix + "_" + digits;
}

CheckpointManagerOptions ManagerOptions(const SimRun& run, const Clock::time_point* now) {
  CheckpointManagerOptions o;
  o.save_interval_steps = run.save_interval_steps;
  o.save_on_steps = run.save_on_steps;
  o.retention.max_to_keep = run.policy.max_to_keep;
  o.retention.keep_period = run.policy.keep_period;
  if (run.policy.interval_seconds)
    o.retention.keep_time_interval = seconds(*run.policy.interval_seconds);
  if (!run.policy.metric.empty()) o.retention.best_fn = MetricNamed(run.policy.metric);
  o.retention.best_mode = run.policy.minimize ? BestMode::kMin : BestMode::kMax;
  o.retention.keep_checkpoints_without_metrics = run.policy.keep_without_metrics;
  o.step_names = run.names;
  o.async = run.async;
  o.handler.pytree.fsync = kvstore::FsyncPolicy::kNone;
  o.handler.pytree.use_ocdbt = false;
  o.handler.pytree.num_threads = 1;
  o.clock = [now] { return *now; };
  return o;
}

Tree SmallTree(std::int64_t step) {
  Tree tree;
  std::vector<float> w = {static_cast<float>(step), 0.5f, -1.0f};
  tree["w"] = Array::FromValues<float>({3}, w).value();
  return tree;
}

// Saves steps [first, last] with `manager`, checking it against the reference
// (`survivors`, updated) after every step: ShouldSave, Save's answer, the
// listed steps, the folders on disk.
void Drive(CheckpointManager& manager, const SimRun& run, std::int64_t first, std::int64_t last,
           Clock::time_point& now, std::vector<RefStep>& survivors) {
  for (std::int64_t step = first; step <= last; ++step) {
    now += seconds(4 + static_cast<std::int64_t>(Mix(step * 7 + 1) % 7));
    bool due = survivors.empty() || step % run.save_interval_steps == 0 ||
               run.save_on_steps.contains(step);
    ASSERT_EQ(manager.ShouldSave(step), due) << "step " << step;
    std::optional<json> metrics = run.metrics(step);
    StepSaveOptions save_options;
    save_options.metrics = metrics;
    auto saved = manager.Save(step, PyTreeSaveArgs{SmallTree(step), {}, {}}, save_options);
    ASSERT_OK(saved);
    ASSERT_EQ(*saved, due) << "step " << step;
    if (run.async) ASSERT_OK(manager.WaitUntilFinished());
    if (!due) continue;
    survivors.push_back({step, now, metrics});
    survivors = ReferenceRetain(survivors, run.policy);
    std::vector<std::int64_t> want;
    std::vector<std::string> want_names;
    for (const auto& s : survivors) {
      want.push_back(s.step);
      want_names.push_back(FolderName(run, s.step));
    }
    std::sort(want_names.begin(), want_names.end());
    ASSERT_EQ(manager.AllSteps(), want) << "after saving step " << step;
    ASSERT_EQ(NamesIn(manager.directory()), want_names) << "after saving step " << step;
    ASSERT_EQ(manager.LatestStep(), step);
  }
}

// What a manager knows equals the reference: steps, times, metrics, best.
void ExpectKnows(const CheckpointManager& manager, const std::vector<RefStep>& survivors,
                 const SimRun& run) {
  auto infos = manager.Checkpoints();
  ASSERT_EQ(infos.size(), survivors.size());
  for (std::size_t i = 0; i < infos.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(survivors[i].step));
    EXPECT_EQ(infos[i].step, survivors[i].step);
    EXPECT_EQ(infos[i].time.time_since_epoch().count(),
              survivors[i].time.time_since_epoch().count());
    EXPECT_EQ(infos[i].metrics, survivors[i].metrics);
    auto metrics = manager.Metrics(survivors[i].step);
    ASSERT_OK(metrics);
    EXPECT_EQ(*metrics, survivors[i].metrics);
  }
  if (!run.policy.metric.empty()) {
    std::optional<std::int64_t> best;
    double best_rank = 0;
    for (const auto& s : survivors) {
      if (!s.metrics) continue;
      if (!best || Rank(s, run.policy) >= best_rank) {
        best = s.step;
        best_rank = Rank(s, run.policy);
      }
    }
    EXPECT_EQ(manager.BestStep(), best);
  } else {
    EXPECT_EQ(manager.BestStep(), survivors.back().step);
  }
}

// Runs `run`: `run.steps` steps with one manager, then a fresh manager on the
// same root knows the same, and continues 30 more steps under the same rules.
void Simulate(const SimRun& run) {
  SCOPED_TRACE(run.name);
  auto start = std::chrono::steady_clock::now();
  testing::TempDir tmp(testing::MemoryTempRoot());
  fs::path root = tmp.path() / "run";
  Clock::time_point now = kEpoch;
  std::vector<RefStep> survivors;
  {
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, ManagerOptions(run, &now)));
    Drive(*manager, run, 1, run.steps, now, survivors);
    if (::testing::Test::HasFatalFailure()) return;
    {
      SCOPED_TRACE("the manager that saved");
      ExpectKnows(*manager, survivors, run);
    }
    ASSERT_OK(manager->Close());
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointManager::Open(root, ManagerOptions(run, &now)));
  std::vector<std::int64_t> want;
  for (const auto& s : survivors) want.push_back(s.step);
  ASSERT_EQ(reopened->AllSteps(), want);
  {
    SCOPED_TRACE("a fresh manager");
    ExpectKnows(*reopened, survivors, run);
  }
  ASSERT_OK_AND_ASSIGN(Tree back, reopened->RestoreTree(survivors.back().step));
  EXPECT_TRUE(
      BitwiseEqual(std::get<Array>(back.Find("w")->leaf()).view(),
                   std::get<Array>(SmallTree(survivors.back().step).Find("w")->leaf()).view()));
  Drive(*reopened, run, run.steps + 1, run.steps + 30, now, survivors);
  std::printf("%s: %d steps, %zu survivors, %.2f s\n", run.name.c_str(), run.steps + 30,
              survivors.size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

// A loss that trends down with noise, rounded to 1/8 so that ties occur.
double NoisyLoss(std::int64_t step) {
  double noise = static_cast<double>(Mix(static_cast<std::uint64_t>(step)) % 256) / 64.0;
  return std::round((noise + 1000.0 / static_cast<double>(step + 100)) * 8.0) / 8.0;
}

// LatestN over 1 000 steps: only the newest 3 survive.
TEST(RetentionSimulationTest, MaxToKeepOverAThousandSteps) {
  SimRun run{.name = "max_to_keep=3", .steps = 1000};
  run.policy.max_to_keep = 3;
  run.metrics = [](std::int64_t step) { return json{{"loss", NoisyLoss(step)}}; };
  Simulate(run);
}

// Newest 2 plus multiples of 50, saving every 3rd step and on listed steps,
// in `ckpt_0042` folders, over 1 000 steps.
TEST(RetentionSimulationTest, MaxToKeepAndKeepPeriodWithSaveInterval) {
  SimRun run{.name = "max_to_keep=2 keep_period=50 save_interval=3",
             .steps = 1000,
             .save_interval_steps = 3,
             .save_on_steps = {7, 100, 101, 250, 500, 998},
             .names = {.prefix = "ckpt", .fixed_length = 4}};
  run.policy.max_to_keep = 2;
  run.policy.keep_period = 50;
  run.metrics = [](std::int64_t step) { return json{{"loss", NoisyLoss(step)}}; };
  Simulate(run);
}

// The 4 lowest losses (with ties, and some NaN scores), steps without
// metrics kept; every 2nd step saved.
TEST(RetentionSimulationTest, BestMinWithTiesNaNsAndStepsWithoutMetrics) {
  SimRun run{.name = "best min max_to_keep=4", .steps = 400, .save_interval_steps = 2};
  run.policy.max_to_keep = 4;
  run.policy.metric = "loss";
  run.policy.minimize = true;
  run.policy.keep_without_metrics = true;
  run.metrics = [](std::int64_t step) -> std::optional<json> {
    if (step % 106 == 0) return std::nullopt;                    // no metrics: kept
    if (step > 20 && step % 38 == 0) return json{{"acc", 0.5}};  // loss missing: NaN
    return json{{"loss", NoisyLoss(step)}, {"step", step}};
  };
  Simulate(run);
}

// The 3 highest accuracies, plus one step per 60 s of (fake) time; steps
// without metrics are not protected.
TEST(RetentionSimulationTest, BestMaxWithTimeIntervalAndStepsWithoutMetrics) {
  SimRun run{.name = "best max max_to_keep=3 keep_time_interval=60s", .steps = 300};
  run.policy.max_to_keep = 3;
  run.policy.metric = "accuracy";
  run.policy.interval_seconds = 60;
  run.policy.keep_without_metrics = false;
  run.metrics = [](std::int64_t step) -> std::optional<json> {
    if (step % 11 == 0) return std::nullopt;
    return json{{"accuracy", 1.0 - NoisyLoss(step) / 16.0}};
  };
  Simulate(run);
}

// Asynchronous saves: retention runs in the background after each commit.
TEST(RetentionSimulationTest, AsyncSavesWithKeepPeriodAndTimeInterval) {
  SimRun run{.name = "async max_to_keep=2 keep_period=25 keep_time_interval=100s",
             .steps = 200,
             .async = true};
  run.policy.max_to_keep = 2;
  run.policy.keep_period = 25;
  run.policy.interval_seconds = 100;
  run.metrics = [](std::int64_t step) { return json{{"loss", NoisyLoss(step)}}; };
  Simulate(run);
}

}  // namespace
}  // namespace stowage
