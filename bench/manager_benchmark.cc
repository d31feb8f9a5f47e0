// What a training loop pays per CheckpointManager save of a 64 MiB tree
// (8 float32 arrays of 8 MiB of pseudo-random values, which zstd barely
// shrinks), next to a raw baseline of the same bytes:
//
//   raw/write+fsync        the tree's bytes as 8 files, each written with one
//                          write() and fsynced (what a commit must wait for).
//   manager/save/blocking  CheckpointManager::Save with async saves: the time
//                          the training loop is blocked (the snapshot); the
//                          commit runs in the background and is waited for
//                          outside the timed region.
//   manager/save/committed the same, until the step has committed and
//                          retention (max_to_keep = 2) has deleted the step
//                          before last: Save + WaitUntilFinished.
//
//   build-bench/manager_benchmark
//   STOWAGE_BENCH_DIR=/mnt/nvme build-bench/manager_benchmark
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "stowage/checkpoint_manager.h"

namespace {

namespace fs = std::filesystem;
constexpr int kArrays = 8;
constexpr std::int64_t kFloatsPerArray = std::int64_t{2} << 20;  // 8 MiB each

fs::path BenchRoot(const std::string& name) {
  const char* env = std::getenv("STOWAGE_BENCH_DIR");
  fs::path root = fs::path(env ? env : fs::temp_directory_path().string()) /
                  ("stowage_manager_bench_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(root);
  return root;
}

stowage::Tree TrainState(std::int64_t step) {
  stowage::Tree tree;
  for (int i = 0; i < kArrays; ++i) {
    auto array = stowage::Array::Zeros(stowage::DType::kFloat32, {kFloatsPerArray}).value();
    auto values = array.mutable_values<float>();
    std::uint32_t x = static_cast<std::uint32_t>(step * 8 + i) | 1u;  // xorshift: incompressible
    for (float& value : values) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      value = static_cast<float>(x) * 1e-9f;
    }
    tree["params"]["layer" + std::to_string(i)] = std::move(array);
  }
  return tree;
}

void RawWriteFsync(benchmark::State& state) {
  fs::path root = BenchRoot("raw");
  fs::create_directories(root);
  std::vector<char> bytes(kFloatsPerArray * sizeof(float), 1);
  for (auto _ : state) {
    for (int i = 0; i < kArrays; ++i) {
      fs::path path = root / std::to_string(i);
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
          ::fsync(fd) != 0) {
        state.SkipWithError("raw write failed");
      }
      ::close(fd);
    }
  }
  state.SetBytesProcessed(state.iterations() * kArrays * kFloatsPerArray * sizeof(float));
  fs::remove_all(root);
}

void ManagerSave(benchmark::State& state, bool wait_for_commit) {
  fs::path root = BenchRoot(wait_for_commit ? "committed" : "blocking");
  stowage::CheckpointManagerOptions options;
  options.retention.max_to_keep = 2;
  auto manager = stowage::CheckpointManager::Open(root, options);
  if (!manager) return state.SkipWithError(manager.error().ToString().c_str());
  std::int64_t step = 0;
  for (auto _ : state) {
    state.PauseTiming();
    stowage::PyTreeSaveArgs args{TrainState(++step)};
    if (!wait_for_commit && !(*manager)->WaitUntilFinished()) state.SkipWithError("commit failed");
    state.ResumeTiming();
    auto saved = (*manager)->Save(step, std::move(args));
    if (!saved || !*saved) state.SkipWithError("save failed");
    if (wait_for_commit && !(*manager)->WaitUntilFinished()) state.SkipWithError("commit failed");
  }
  (void)(*manager)->Close();
  state.SetBytesProcessed(state.iterations() * kArrays * kFloatsPerArray * sizeof(float));
  manager->reset();
  fs::remove_all(root);
}

BENCHMARK(RawWriteFsync)->Name("raw/write+fsync")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(ManagerSave, blocking, false)
    ->Name("manager/save/blocking")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(ManagerSave, committed, true)
    ->Name("manager/save/committed")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
