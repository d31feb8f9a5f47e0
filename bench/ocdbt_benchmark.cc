// Many small arrays: one OCDBT database against one zarr v2 folder per
// array, as Orbax's PyTree handler writes them (use_ocdbt true / false),
// plus a point lookup in a 100 000-key database.
//
//   build-bench/ocdbt_benchmark
//   STOWAGE_BENCH_DIR=/mnt/nvme build-bench/ocdbt_benchmark
//
// What is timed:
//   many_small/<layout>/<sync>  BasePyTreeHandler::AsyncSave of 10 000
//       float32[256] leaves (1 KiB each, zstd) into a fresh directory, until
//       every future (data, OCDBT commit and merge, _METADATA) is ready.
//       <sync> is "fsync" (every file and directory, the default) or
//       "nosync". Counter `files`: regular files the save created.
//   ocdbt/lookup/cold  open a 100 000-key database (4 KiB nodes, so the tree
//       has several levels) and read one key. Counter `node_reads`: B+tree
//       nodes fetched, which is the tree height + 1.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "checkpoint/base_pytree_handler.h"
#include "stowage/ocdbt.h"

namespace {

namespace fs = std::filesystem;
using namespace stowage;  // NOLINT

constexpr int kArrays = 10000;
constexpr int kElements = 256;

fs::path BenchDir(const std::string& name) {
  const char* base = std::getenv("STOWAGE_BENCH_DIR");
  fs::path dir =
      fs::path(base ? base : fs::temp_directory_path().string()) / ("stowage-ocdbt-bench-" + name);
  fs::remove_all(dir);
  return dir;
}

std::vector<checkpoint::LeafToSave> SmallLeaves() {
  std::vector<checkpoint::LeafToSave> leaves;
  for (int i = 0; i < kArrays; ++i) {
    std::vector<float> values(kElements);
    for (int j = 0; j < kElements; ++j) values[j] = static_cast<float>(i * kElements + j);
    leaves.push_back(
        {{{"layer_" + std::to_string(i), tree::KeyType::kDict}, {"w", tree::KeyType::kDict}},
         Array::FromValues<float>({kElements}, values).value(),
         {}});
  }
  return leaves;
}

std::int64_t CountFiles(const fs::path& dir) {
  std::int64_t files = 0;
  for (auto& entry : fs::recursive_directory_iterator(dir)) files += entry.is_regular_file();
  return files;
}

void BM_ManySmall(benchmark::State& state, bool ocdbt, bool fsync) {
  checkpoint::BasePyTreeOptions options;
  options.use_ocdbt = ocdbt;
  options.file.fsync = fsync ? kvstore::FsyncPolicy::kEveryWrite : kvstore::FsyncPolicy::kNone;
  checkpoint::BasePyTreeHandler handler(options);
  fs::path dir = BenchDir(ocdbt ? "ocdbt" : "zarr2");
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(dir);
    auto leaves = SmallLeaves();
    state.ResumeTiming();
    auto futures = handler.AsyncSave(dir, std::move(leaves), nullptr);
    if (!futures.has_value() || !WaitAll(*futures).has_value()) {
      state.SkipWithError("save failed");
      break;
    }
  }
  state.counters["files"] = static_cast<double>(CountFiles(dir));
  state.counters["arrays/s"] = benchmark::Counter(static_cast<double>(kArrays) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
  fs::remove_all(dir);
}

void BM_ColdLookup(benchmark::State& state) {
  fs::path dir = BenchDir("lookup");
  std::shared_ptr<kvstore::Store> files =
      kvstore::OpenFileStore(dir, {.fsync = kvstore::FsyncPolicy::kNone});
  {
    kvstore::OcdbtOptions options;
    options.max_decoded_node_bytes = 4096;
    auto db = kvstore::OcdbtStore::Open(files, "", options).value();
    for (int i = 0; i < 100000; ++i) {
      std::string key = "param." + std::to_string(i) + "/0";
      (void)db->Write(key, AsBytes(key));
    }
    (void)db->Commit();
  }
  std::uint64_t node_reads = 0;
  for (auto _ : state) {
    auto db = kvstore::OcdbtStore::Open(files).value();
    auto value = db->Read("param.54321/0");
    if (!value.has_value()) state.SkipWithError("lookup failed");
    node_reads = db->node_reads();
  }
  state.counters["node_reads"] = static_cast<double>(node_reads);
  fs::remove_all(dir);
}

}  // namespace

BENCHMARK_CAPTURE(BM_ManySmall, zarr2_nosync, false, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_ManySmall, ocdbt_nosync, true, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_ManySmall, zarr2_fsync, false, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_ManySmall, ocdbt_fsync, true, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_ColdLookup)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
