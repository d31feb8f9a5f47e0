// Save and restore throughput of a 256 MiB float32 array through
// ArrayCheckpointHandler and Checkpointer, next to a raw baseline (one
// write() + fsync, one read()) of the same bytes on the same filesystem, so
// that the ratios come out of one run.
//
//   build-bench/checkpoint_benchmark                  # about a minute here
//   build-bench/checkpoint_benchmark --benchmark_filter='raw|handler/save'
//   STOWAGE_BENCH_ALL=1 build-bench/checkpoint_benchmark   # + the cases
//                                                          #   marked (all)
//   STOWAGE_BENCH_MIB=64 STOWAGE_BENCH_DIR=/mnt/nvme build-bench/checkpoint_benchmark
//
// What is timed:
//   raw/write+fsync      open, one write() of the bytes, fsync, close.
//   raw/write            the same without fsync (page cache only).
//   raw/read             allocate a fresh buffer (as a restore must), open,
//                        one read(), close.
//   raw/read/warm-buffer the same into one buffer reused across iterations:
//                        raw/read minus this is the cost of faulting in 256
//                        MiB of new memory, which is large on this VM.
//   handler/save/C       ArrayCheckpointHandler::Save of an owned Array (moved
//                        in, no copy) with compression C, fsync on every file
//                        (the handler's default), into a fresh directory.
//   handler/save/C/view  (all) the same from an ArrayView: Save snapshots
//                        (copies) the caller's buffer first.
//   handler/restore/C    ArrayCheckpointHandler::Restore into a new Array, of
//                        the checkpoint checkpointer/save/C left (or one
//                        saved before the loop when that case did not run).
//   checkpointer/save/C  Checkpointer<ArrayCheckpointHandler>::Save, set up as
//                        the CLI's import is: atomic (temporary directory,
//                        _CHECKPOINT_METADATA, commit_success.txt, rename),
//                        every file fsynced once at commit.
//   checkpointer/restore/C  (all) Checkpointer::Restore of the same
//                        checkpoint.
// Not timed (state.PauseTiming): making the Array to move in, deleting the
// previous iteration's files, freeing restored arrays.
//
// Page cache: we cannot drop caches reliably here (dropping them is global,
// disturbs everything else on the machine, and the VM host may cache the
// virtual disk anyway), so every read — stowage's and the raw baseline's — is served from the page
// cache the preceding save filled, and measures memory bandwidth plus
// syscall, decode and page-fault costs, not the disk. The raw read runs
// under exactly the same conditions, so the ratio stays meaningful. Writes
// with fsync do reach the device (or at least the VM's virtual disk).
//
// After the runs a summary prints GiB/s and each case's time relative to its
// raw baseline (saves to raw/write+fsync, restores to raw/read) on stderr,
// so --benchmark_format=json stays parseable on stdout.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "stowage/array.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"

namespace {

namespace fs = std::filesystem;
using stowage::Array;
using stowage::ArrayCheckpointHandler;
using stowage::ArrayCheckpointHandlerOptions;
using stowage::Compression;
using stowage::Leaf;

constexpr std::int64_t kColumns = 8192;
constexpr int kIterations = 3;

// Size of the array in MiB: $STOWAGE_BENCH_MIB or 256. Below 32 MiB glibc's
// dynamic mmap threshold recycles freed buffers, so restores skip the page
// faults a real one pays: keep it at 64 or more.
std::int64_t ArrayMiB() {
  const char* env = std::getenv("STOWAGE_BENCH_MIB");
  std::int64_t mib = env != nullptr ? std::atoll(env) : 256;
  return mib > 0 ? mib : 256;
}

// float32 N(0, 0.02) noise, like freshly initialized weights: random sign
// and mantissa bits, so zstd finds little to squeeze (as in real
// checkpoints), shaped [MiB * 32, 8192]. Made once, on first use.
const Array& TestArray() {
  static const Array* array = [] {
    stowage::Shape shape = {ArrayMiB() * 1024 * 1024 / 4 / kColumns, kColumns};
    auto made = Array::Uninitialized(stowage::DType::kFloat32, shape);
    if (!made.has_value()) {
      std::cerr << "cannot allocate the test array: " << made.error().ToString() << "\n";
      std::exit(1);
    }
    auto values = made->mutable_values<float>();
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    auto next = [&state] {  // splitmix64
      std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      return z ^ (z >> 31);
    };
    constexpr double kTwoPi = 6.283185307179586;
    for (std::size_t i = 0; i + 1 < values.size(); i += 2) {  // Box-Muller
      std::uint64_t bits = next();
      double u1 = (static_cast<double>(bits >> 40) + 1.0) / 16777217.0;
      double u2 = static_cast<double>(bits & 0xffffff) / 16777216.0;
      double r = 0.02 * std::sqrt(-2.0 * std::log(u1));
      values[i] = static_cast<float>(r * std::cos(kTwoPi * u2));
      values[i + 1] = static_cast<float>(r * std::sin(kTwoPi * u2));
    }
    return new Array(std::move(*made));
  }();
  return *array;
}

std::int64_t ArrayBytes() { return ArrayMiB() << 20; }

// The scratch directory every case writes under (made in main).
fs::path& Root() {
  static fs::path root;
  return root;
}

// A directory name not used before in this process.
fs::path FreshPath(const std::string& stem) {
  static int counter = 0;
  return Root() / (stem + "-" + std::to_string(counter++));
}

std::uint64_t TreeBytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

const char* CompressionName(Compression compression) {
  return compression == Compression::kZstd ? "zstd" : "none";
}

ArrayCheckpointHandlerOptions HandlerOptions(Compression compression) {
  ArrayCheckpointHandlerOptions options;
  options.compression = compression;
  return options;  // fsync kEveryWrite, one thread per core: the defaults
}

// As the CLI's import: the checkpointer fsyncs every file once, at commit.
stowage::Checkpointer<ArrayCheckpointHandler> MakeCheckpointer(Compression compression) {
  ArrayCheckpointHandlerOptions options = HandlerOptions(compression);
  options.fsync = stowage::kvstore::FsyncPolicy::kNone;
  return stowage::Checkpointer<ArrayCheckpointHandler>(ArrayCheckpointHandler(options));
}

void Finish(benchmark::State& state) { state.SetBytesProcessed(state.iterations() * ArrayBytes()); }

void SetStoredRatio(benchmark::State& state, const fs::path& dir) {
  state.counters["stored/raw"] =
      static_cast<double>(TreeBytes(dir)) / static_cast<double>(ArrayBytes());
}

// Checks a restored leaf against the test array; false after SkipWithError.
bool CheckRestored(benchmark::State& state, const stowage::Result<Leaf>& restored) {
  if (!restored.has_value()) {
    state.SkipWithError(restored.error().ToString().c_str());
    return false;
  }
  const Array* array = std::get_if<Array>(&*restored);
  if (array == nullptr || !stowage::BitwiseEqual(array->view(), TestArray().view())) {
    state.SkipWithError("restored array differs from the saved one");
    return false;
  }
  return true;
}

// Checkpoints of the test array, one per compression, that the restore cases
// read: the last one checkpointer/save/C wrote, or one saved on demand.
std::map<Compression, fs::path>& SavedCheckpoints() {
  static auto* saved = new std::map<Compression, fs::path>();
  return *saved;
}

// The checkpoint to restore from; null after SkipWithError.
const fs::path* SavedCheckpoint(benchmark::State& state, Compression compression) {
  auto& saved = SavedCheckpoints();
  if (auto it = saved.find(compression); it != saved.end()) return &it->second;
  fs::path dir = FreshPath(std::string("restore-") + CompressionName(compression));
  stowage::Status status = MakeCheckpointer(compression).Save(dir, {Leaf(TestArray().view()), {}});
  if (!status.has_value()) {
    state.SkipWithError(status.error().ToString().c_str());
    return nullptr;
  }
  return &(saved[compression] = dir);
}

// --- raw baseline ----------------------------------------------------------

bool WriteAll(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {  // one write() in practice; loops only on a short write
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, std::byte* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Writes the test array's bytes to a new file; false after SkipWithError.
bool RawWrite(benchmark::State& state, const fs::path& path, bool sync) {
  auto bytes = TestArray().bytes();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && WriteAll(fd, bytes.data(), bytes.size()) && (!sync || ::fsync(fd) == 0);
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (!ok) state.SkipWithError(("raw write of " + path.string() + " failed").c_str());
  return ok;
}

void BM_RawWrite(benchmark::State& state, bool sync) {
  TestArray();
  fs::path path;
  for (auto _ : state) {
    path = FreshPath("raw");
    if (!RawWrite(state, path, sync)) break;
    state.PauseTiming();
    fs::remove(path);
    state.ResumeTiming();
  }
  Finish(state);
}

// With `fresh_buffer`, reads into a new (not yet faulted-in) buffer each
// time, as a restore must allocate its Array; otherwise into one buffer
// reused across iterations, which leaves out the page-fault cost.
void BM_RawRead(benchmark::State& state, bool fresh_buffer) {
  fs::path path = FreshPath("raw-read");
  if (!RawWrite(state, path, true)) return;
  std::size_t size = TestArray().num_bytes();
  std::unique_ptr<std::byte[]> buffer;
  if (!fresh_buffer) {
    buffer.reset(new std::byte[size]);
    std::memset(buffer.get(), 0, size);
  }
  for (auto _ : state) {
    if (fresh_buffer) buffer.reset(new std::byte[size]);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ReadAll(fd, buffer.get(), size);
    if (fd >= 0) ::close(fd);
    if (!ok) {
      state.SkipWithError(("raw read of " + path.string() + " failed").c_str());
      break;
    }
    benchmark::DoNotOptimize(buffer.get());
    if (fresh_buffer) {
      state.PauseTiming();
      buffer.reset();
      state.ResumeTiming();
    }
  }
  fs::remove(path);
  Finish(state);
}

// --- ArrayCheckpointHandler ------------------------------------------------

void BM_HandlerSave(benchmark::State& state, Compression compression, bool from_view) {
  TestArray();
  ArrayCheckpointHandler handler(HandlerOptions(compression));
  fs::path dir;
  for (auto _ : state) {
    state.PauseTiming();
    if (!dir.empty()) fs::remove_all(dir);
    dir = FreshPath(std::string("handler-") + CompressionName(compression));
    Leaf item = from_view ? Leaf(TestArray().view()) : Leaf(TestArray().Copy());
    state.ResumeTiming();
    stowage::Status saved = handler.Save(dir, {std::move(item), {}});
    if (!saved.has_value()) {
      state.SkipWithError(saved.error().ToString().c_str());
      break;
    }
  }
  if (!dir.empty()) {
    SetStoredRatio(state, dir);
    fs::remove_all(dir);
  }
  Finish(state);
}

void BM_HandlerRestore(benchmark::State& state, Compression compression) {
  const fs::path* dir = SavedCheckpoint(state, compression);
  if (dir == nullptr) return;
  ArrayCheckpointHandler handler(HandlerOptions(compression));
  for (auto _ : state) {
    stowage::Result<Leaf> restored = handler.Restore(*dir);
    state.PauseTiming();
    bool ok = CheckRestored(state, restored);
    restored = Leaf(Array());  // free outside the timed region
    state.ResumeTiming();
    if (!ok) break;
  }
  Finish(state);
}

// --- Checkpointer ----------------------------------------------------------

void BM_CheckpointerSave(benchmark::State& state, Compression compression) {
  TestArray();
  auto checkpointer = MakeCheckpointer(compression);
  fs::path dir;
  for (auto _ : state) {
    state.PauseTiming();
    if (!dir.empty()) fs::remove_all(dir);
    dir = FreshPath(std::string("checkpointer-") + CompressionName(compression));
    Leaf item(TestArray().Copy());
    state.ResumeTiming();
    stowage::Status saved = checkpointer.Save(dir, {std::move(item), {}});
    if (!saved.has_value()) {
      state.SkipWithError(saved.error().ToString().c_str());
      break;
    }
  }
  if (!dir.empty()) {
    SetStoredRatio(state, dir);
    if (state.error_occurred() || !SavedCheckpoints().emplace(compression, dir).second) {
      fs::remove_all(dir);
    }
  }
  Finish(state);
}

void BM_CheckpointerRestore(benchmark::State& state, Compression compression) {
  const fs::path* dir = SavedCheckpoint(state, compression);
  if (dir == nullptr) return;
  auto checkpointer = MakeCheckpointer(compression);
  for (auto _ : state) {
    stowage::Result<Leaf> restored = checkpointer.Restore(*dir);
    state.PauseTiming();
    bool ok = CheckRestored(state, restored);
    restored = Leaf(Array());
    state.ResumeTiming();
    if (!ok) break;
  }
  Finish(state);
}

// --- registration and summary ----------------------------------------------

void Register(const std::string& name, std::function<void(benchmark::State&)> fn) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [fn = std::move(fn)](benchmark::State& state) { fn(state); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(kIterations);
}

// The default set runs in about a minute on a 2-core VM; STOWAGE_BENCH_ALL=1
// adds checkpointer/restore/* (Checkpointer::Restore is one stat plus
// ArrayCheckpointHandler::Restore, and measures the same) and
// handler/save/none/view.
void RegisterAll() {
  const char* all_env = std::getenv("STOWAGE_BENCH_ALL");
  bool all = all_env != nullptr && std::string(all_env) != "0";
  Register("raw/write+fsync", [](auto& s) { BM_RawWrite(s, true); });
  Register("raw/write", [](auto& s) { BM_RawWrite(s, false); });
  Register("raw/read", [](auto& s) { BM_RawRead(s, true); });
  Register("raw/read/warm-buffer", [](auto& s) { BM_RawRead(s, false); });
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    std::string suffix = CompressionName(c);
    Register("handler/save/" + suffix, [c](auto& s) { BM_HandlerSave(s, c, false); });
    Register("checkpointer/save/" + suffix, [c](auto& s) { BM_CheckpointerSave(s, c); });
    Register("handler/restore/" + suffix, [c](auto& s) { BM_HandlerRestore(s, c); });
    if (all) {
      Register("checkpointer/restore/" + suffix, [c](auto& s) { BM_CheckpointerRestore(s, c); });
    }
  }
  if (all) {
    Register("handler/save/none/view",
             [](auto& s) { BM_HandlerSave(s, Compression::kNone, true); });
  }
}

// Passes everything to the reporter --benchmark_format asks for and keeps
// the per-iteration real time of each case for the summary.
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  CollectingReporter() : inner_(benchmark::CreateDefaultDisplayReporter()) {}

  bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred || run.iterations == 0) {
        continue;
      }
      const std::string& name = run.run_name.function_name;
      seconds_[name] = run.real_accumulated_time / static_cast<double>(run.iterations);
      order_.push_back(name);
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override { inner_->Finalize(); }

  // GiB/s per case and its time over its raw baseline's.
  void PrintSummary(std::ostream& out) const {
    if (order_.empty()) return;
    double gib = static_cast<double>(ArrayBytes()) / (1 << 30);
    char line[160];
    out << "\n"
        << ArrayMiB() << " MiB float32 under " << Root().string()
        << "; reads are served from the page cache\n";
    std::snprintf(line, sizeof(line), "%-32s %9s %8s  %s\n", "case (real time, mean)", "seconds",
                  "GiB/s", "time / raw baseline");
    out << line;
    for (const std::string& name : order_) {
      double seconds = seconds_.at(name);
      bool read = name.find("/restore/") != std::string::npos || name.starts_with("raw/read");
      std::string baseline = read ? "raw/read" : "raw/write+fsync";
      std::string ratio = "-";
      if (auto it = seconds_.find(baseline); it != seconds_.end() && name != baseline) {
        char text[64];
        std::snprintf(text, sizeof(text), "%.2fx %s", seconds / it->second, baseline.c_str());
        ratio = text;
      }
      std::snprintf(line, sizeof(line), "%-32s %9.3f %8.2f  %s\n", name.c_str(), seconds,
                    gib / seconds, ratio.c_str());
      out << line;
    }
  }

 private:
  benchmark::BenchmarkReporter* inner_;    // owned by the benchmark library
  std::map<std::string, double> seconds_;  // per iteration
  std::vector<std::string> order_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const char* base = std::getenv("STOWAGE_BENCH_DIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/stowage-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror(("mkdtemp " + pattern).c_str());
    return 1;
  }
  Root() = pattern;
  RegisterAll();
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary(std::cerr);
  std::error_code ec;
  fs::remove_all(Root(), ec);
  benchmark::Shutdown();
  return 0;
}
