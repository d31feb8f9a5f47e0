// `stowage ls ROOT`: the steps of a CheckpointManager root, with commit
// time, size, metrics and why retention keeps each. `stowage rm ROOT STEP`:
// deletes one step atomically.
#include <ctime>
#include <iomanip>
#include <iostream>

#include "cli/commands.h"
#include "stowage/checkpoint_manager.h"
#include "stowage/directory.h"

namespace stowage::cli {
namespace {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

CheckpointManagerOptions ManagerOptions(const ManagerRootOptions& where, bool read_only) {
  CheckpointManagerOptions options;
  options.step_names.prefix = where.step_prefix;
  options.step_names.fixed_length = where.step_fixed_length;
  options.read_only = read_only;
  options.create = false;
  return options;
}

Result<RetentionOptions> Retention(const LsOptions& o) {
  RetentionOptions r;
  r.max_to_keep = o.max_to_keep;
  r.keep_period = o.keep_period;
  if (o.keep_time_interval_seconds) {
    r.keep_time_interval = std::chrono::seconds(*o.keep_time_interval_seconds);
  }
  if (!o.best_metric.empty()) {
    r.best_fn = MetricNamed(o.best_metric);
    r.best_mode = o.best_mode == "min" ? BestMode::kMin : BestMode::kMax;
  }
  r.keep_checkpoints_without_metrics = !o.delete_without_metrics;
  return r;
}

// Bytes of every file under `dir` (0 when it cannot be listed).
std::uint64_t TreeBytes(const fs::path& dir) {
  auto store = kvstore::OpenDirectory(dir);
  if (!store.has_value()) return 0;
  return (*store)->BytesUnder("", nullptr).value_or(0);
}

// "2026-11-29T17:02:03Z".
std::string UtcTime(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

ojson KeptList(KeepReason reasons) {
  ojson list = ojson::array();
  std::string names = KeepReasonNames(reasons);
  for (std::size_t start = 0; start < names.size();) {
    std::size_t comma = names.find(", ", start);
    list.push_back(names.substr(start, comma - start));
    start = comma == std::string::npos ? names.size() : comma + 2;
  }
  return list;
}

ojson Describe(const CheckpointManager& manager, const std::vector<StepInfo>& infos,
               const std::vector<KeepReason>& kept) {
  ojson steps = ojson::array();
  for (std::size_t i = 0; i < infos.size(); ++i) {
    fs::path path = manager.StepPath(infos[i].step);
    steps.push_back({{"step", infos[i].step},
                     {"path", path.string()},
                     {"committed", UtcTime(infos[i].time)},
                     {"bytes", TreeBytes(path)},
                     {"metrics", infos[i].metrics ? *infos[i].metrics : ojson()},
                     {"kept", KeptList(kept[i])}});
  }
  return steps;
}

void PrintTable(const ojson& steps, std::optional<std::int64_t> best) {
  std::cout << std::left << std::setw(12) << "STEP" << std::setw(22) << "COMMITTED (UTC)"
            << std::setw(14) << "BYTES" << std::setw(30) << "METRICS"
            << "KEPT BECAUSE\n";
  for (const auto& step : steps) {
    std::string kept;
    for (const auto& reason : step["kept"])
      kept += (kept.empty() ? "" : ", ") + reason.get<std::string>();
    std::string metrics = step["metrics"].is_null() ? "-" : step["metrics"].dump();
    std::cout << std::setw(12) << step["step"].get<std::int64_t>() << std::setw(22)
              << step["committed"].get<std::string>() << std::setw(14)
              << step["bytes"].get<std::uint64_t>() << std::setw(30) << metrics
              << (kept.empty() ? "DELETED at the next commit" : kept) << "\n";
  }
  std::cout << steps.size() << " step(s)";
  if (best) std::cout << "; best step " << *best;
  std::cout << "\n";
}

}  // namespace

Status RunLs(const LsOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(RetentionOptions retention, Retention(options));
  CheckpointManagerOptions manager_options = ManagerOptions(options.where, /*read_only=*/true);
  manager_options.retention = retention;
  STOWAGE_ASSIGN_OR_RETURN(auto manager,
                           CheckpointManager::Open(options.where.root, std::move(manager_options)));
  std::vector<StepInfo> infos = manager->Checkpoints();
  ojson steps = Describe(*manager, infos, DecideRetention(infos, retention));
  if (options.json) {
    std::optional<std::int64_t> best = manager->BestStep();
    std::cout << ojson{{"root", options.where.root},
                       {"steps", steps},
                       {"latest_step",
                        manager->LatestStep() ? ojson(*manager->LatestStep()) : ojson()},
                       {"best_step", best ? ojson(*best) : ojson()}}
                     .dump(2)
              << "\n";
    return OkStatus();
  }
  PrintTable(steps, retention.best_fn ? manager->BestStep() : std::nullopt);
  return OkStatus();
}

Status RunRm(const RmOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(
      auto manager,
      CheckpointManager::Open(options.where.root, ManagerOptions(options.where, false)));
  STOWAGE_RETURN_IF_ERROR(manager->Delete(options.step));
  std::cout << "deleted step " << options.step << " (" << manager->StepPath(options.step).string()
            << ")\n";
  return OkStatus();
}

}  // namespace stowage::cli
