// Which steps a CheckpointManager keeps: Orbax's default preservation policy
// (orbax `checkpoint_manager.py` `_get_default_preservation_policy`, the
// policies in `_src/checkpoint_managers/preservation_policy.py`), plus the
// latest and the best step, which stowage never deletes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "stowage/checkpoint_manager.h"

namespace stowage {
namespace {

using Infos = std::vector<StepInfo>;

void Mark(std::vector<KeepReason>& reasons, std::size_t i, KeepReason reason) {
  reasons[i] = reasons[i] | reason;
}

// How good a step's metrics are: larger is better, NaN (no score) worst.
double Quality(const StepInfo& info, const RetentionOptions& options) {
  double score = options.best_fn(*info.metrics);
  if (std::isnan(score)) return -std::numeric_limits<double>::infinity();
  return options.best_mode == BestMode::kMax ? score : -score;
}

// Indices of the steps that have metrics, worst first; among equals the
// earlier step first (Orbax's stable sort), so the later one ranks higher.
std::vector<std::size_t> RankedByMetrics(const Infos& infos, const RetentionOptions& options) {
  std::vector<std::size_t> ranked;
  std::vector<double> quality(infos.size());
  for (std::size_t i = 0; i < infos.size(); ++i) {
    if (!infos[i].metrics) continue;
    ranked.push_back(i);
    quality[i] = Quality(infos[i], options);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](std::size_t a, std::size_t b) { return quality[a] < quality[b]; });
  return ranked;
}

// Orbax LatestN / BestN with n = max_to_keep.
void KeepMaxToKeep(const Infos& infos, const RetentionOptions& options,
                   std::vector<KeepReason>& reasons) {
  std::size_t n = infos.size();
  if (!options.max_to_keep) {
    for (std::size_t i = 0; i < n; ++i) Mark(reasons, i, KeepReason::kNoPolicy);
    return;
  }
  auto keep = static_cast<std::size_t>(*options.max_to_keep);
  if (n <= keep) {
    for (std::size_t i = 0; i < n; ++i) Mark(reasons, i, KeepReason::kMaxToKeep);
    return;
  }
  if (!options.best_fn) {
    for (std::size_t i = n - keep; i < n; ++i) Mark(reasons, i, KeepReason::kMaxToKeep);
    return;
  }
  if (keep == 0) return;  // Orbax BestN(n=0) keeps nothing, not even unscored steps
  std::vector<std::size_t> ranked = RankedByMetrics(infos, options);
  for (std::size_t r = ranked.size() > keep ? ranked.size() - keep : 0; r < ranked.size(); ++r) {
    Mark(reasons, ranked[r], KeepReason::kMaxToKeep);
  }
  if (!options.keep_checkpoints_without_metrics) return;
  for (std::size_t i = 0; i < n; ++i) {
    if (!infos[i].metrics) Mark(reasons, i, KeepReason::kWithoutMetrics);
  }
}

// Orbax EveryNSeconds over the current list.
void KeepTimeInterval(const Infos& infos, std::chrono::seconds interval,
                      std::vector<KeepReason>& reasons) {
  std::size_t last_kept = 0;
  Mark(reasons, 0, KeepReason::kTimeInterval);
  for (std::size_t i = 1; i < infos.size(); ++i) {
    if (infos[i].time - infos[last_kept].time >= interval) {
      last_kept = i;
      Mark(reasons, i, KeepReason::kTimeInterval);
    }
  }
}

std::optional<std::size_t> BestIndex(const Infos& infos, const RetentionOptions& options) {
  if (infos.empty()) return std::nullopt;
  if (!options.best_fn) return infos.size() - 1;
  std::vector<std::size_t> ranked = RankedByMetrics(infos, options);
  if (ranked.empty()) return std::nullopt;
  return ranked.back();
}

}  // namespace

BestFn MetricNamed(std::string name) {
  return [name = std::move(name)](const nlohmann::ordered_json& metrics) {
    if (metrics.is_object()) {
      auto value = metrics.find(name);
      if (value != metrics.end() && value->is_number()) return value->get<double>();
    }
    return std::numeric_limits<double>::quiet_NaN();
  };
}

std::string KeepReasonNames(KeepReason reasons) {
  static constexpr std::pair<KeepReason, const char*> kNames[] = {
      {KeepReason::kLatest, "latest"},
      {KeepReason::kBest, "best"},
      {KeepReason::kMaxToKeep, "max_to_keep"},
      {KeepReason::kKeepPeriod, "keep_period"},
      {KeepReason::kTimeInterval, "keep_time_interval"},
      {KeepReason::kWithoutMetrics, "without_metrics"},
      {KeepReason::kNoPolicy, "no_policy"},
  };
  std::string names;
  for (const auto& [reason, name] : kNames) {
    if (!Has(reasons, reason)) continue;
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

std::vector<KeepReason> DecideRetention(const std::vector<StepInfo>& checkpoints,
                                        const RetentionOptions& options) {
  std::vector<KeepReason> reasons(checkpoints.size(), KeepReason::kNone);
  if (checkpoints.empty()) return reasons;
  Mark(reasons, checkpoints.size() - 1, KeepReason::kLatest);
  if (options.best_fn) {
    if (auto best = BestIndex(checkpoints, options)) Mark(reasons, *best, KeepReason::kBest);
  }
  KeepMaxToKeep(checkpoints, options, reasons);
  if (options.keep_period && *options.keep_period > 0) {
    for (std::size_t i = 0; i < checkpoints.size(); ++i) {
      if (checkpoints[i].step % *options.keep_period == 0) {
        Mark(reasons, i, KeepReason::kKeepPeriod);
      }
    }
  }
  if (options.keep_time_interval) {
    KeepTimeInterval(checkpoints, *options.keep_time_interval, reasons);
  }
  return reasons;
}

std::optional<std::int64_t> BestStep(const std::vector<StepInfo>& checkpoints,
                                     const RetentionOptions& options) {
  auto best = BestIndex(checkpoints, options);
  if (!best) return std::nullopt;
  return checkpoints[*best].step;
}

}  // namespace stowage
