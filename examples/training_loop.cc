// A training loop checkpointed by a CheckpointManager, as Orbax users write
// it: every 5th step is saved asynchronously with its loss; the manager keeps
// the 2 best steps by loss (and always the latest), deleting the others once
// each new step has committed. Then the best step is restored and checked.
// Run it twice on one DIR: the second run resumes after the latest step.
// `stowage ls DIR --max-to-keep 2 --best-metric loss --best-mode min` shows
// the same decisions; Orbax's CheckpointManager can continue the run.
//
//   training_loop DIR
#include <cmath>
#include <cstdio>

#include "stowage/stowage.h"

namespace {

stowage::Tree TrainState(std::int64_t step) {
  auto weights = stowage::Array::Zeros(stowage::DType::kFloat32, {64, 64}).value();
  auto values = weights.mutable_values<float>();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(step + i);
  stowage::Tree state;
  state["params"]["w"] = std::move(weights);
  state["step"] = stowage::Scalar::Of(step);
  return state;
}

// A loss that is lowest at step 20 and rises after it (overfitting).
double Loss(std::int64_t step) { return 0.1 + std::abs(static_cast<double>(step - 20)) / 10.0; }

int Fail(const stowage::Error& error) {
  std::fprintf(stderr, "training_loop: %s\n", error.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: training_loop DIR\n");
    return 2;
  }
  stowage::CheckpointManagerOptions options;
  options.save_interval_steps = 5;
  options.retention.max_to_keep = 2;
  options.retention.best_fn = stowage::MetricNamed("loss");
  options.retention.best_mode = stowage::BestMode::kMin;
  auto manager = stowage::CheckpointManager::Open(argv[1], options);
  if (!manager) return Fail(manager.error());
  std::int64_t start = (*manager)->LatestStep().value_or(0) + 1;  // resume a previous run
  for (std::int64_t step = start; step < start + 40; ++step) {
    if (!(*manager)->ShouldSave(step)) continue;
    stowage::StepSaveOptions save;
    save.metrics = nlohmann::ordered_json{{"loss", Loss(step)}};
    auto saved = (*manager)->Save(step, stowage::PyTreeSaveArgs{.item = TrainState(step)}, save);
    if (!saved) return Fail(saved.error());
  }
  if (auto closed = (*manager)->Close(); !closed) return Fail(closed.error());
  std::printf("steps kept:");
  for (auto step : (*manager)->AllSteps()) std::printf(" %lld", static_cast<long long>(step));
  auto best = (*manager)->BestStep();
  std::printf("; best step %lld\n", static_cast<long long>(best.value_or(-1)));
  auto restored = (*manager)->RestoreTree(*best);
  if (!restored) return Fail(restored.error());
  const auto& w = std::get<stowage::Array>((*restored)["params"]["w"].leaf());
  bool same = w.values<float>()[0] == static_cast<float>(*best);
  std::printf("restored best step %lld: params.w[0] = %g (%s)\n", static_cast<long long>(*best),
              static_cast<double>(w.values<float>()[0]), same ? "correct" : "WRONG");
  return same ? 0 : 1;
}
