// Issue 7, bounds: restoring a 256 MiB array needs the output plus a bounded
// working set (the in-flight chunk buffers, max_in_flight_bytes), not a
// second copy of the array. Measured as the growth of the peak resident set
// (VmHWM, reset through /proc/self/clear_refs) of a forked child, so that
// the other tests' memory does not count. Skipped under AddressSanitizer,
// whose quarantine and shadow memory make resident sizes meaningless.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "stowage/array_checkpoint_handler.h"
#include "testutil/testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define STOWAGE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STOWAGE_UNDER_ASAN 1
#endif
#endif

namespace stowage {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kElements = std::int64_t{64} << 20;  // float32: 256 MiB
constexpr std::uint64_t kInFlight = std::uint64_t{64} << 20;
// Beyond the output and the in-flight budget: thread stacks, allocator
// slack, the metadata.
constexpr std::uint64_t kSlack = std::uint64_t{48} << 20;

// A field of /proc/self/status ("VmHWM", "VmRSS") in bytes; 0 if absent.
std::uint64_t StatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field + ":")) return std::stoull(line.substr(field.size() + 1)) << 10;
  }
  return 0;
}

// Resets VmHWM to the current resident size (Linux >= 4.0).
bool ResetPeak() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear.flush());
}

ArrayCheckpointHandlerOptions Options(Compression compression) {
  ArrayCheckpointHandlerOptions options;
  options.compression = compression;
  options.num_threads = 2;  // a pool of the child's own: the parent's threads are not forked
  options.fsync = kvstore::FsyncPolicy::kNone;
  options.max_in_flight_bytes = kInFlight;
  return options;
}

// In the child: saves the array, drops it, restores it and prints
// "<peak growth> <output bytes>". Exit status 0 on success.
int MeasureInChild(const fs::path& dir, Compression compression) {
  alarm(300);  // a hang fails the test rather than blocking it
  {
    Array array = Array::Uninitialized(DType::kFloat32, {kElements}).value();
    auto values = array.mutable_values<float>();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 1000);
    Status saved = ArrayCheckpointHandler(Options(compression)).Save(dir, {std::move(array), {}});
    if (!saved.has_value()) return 2;
  }
  if (!ResetPeak()) return 3;
  std::uint64_t before = StatusBytes("VmRSS");
  auto restored = ArrayCheckpointHandler(Options(compression)).Restore(dir);
  if (!restored.has_value()) return 4;
  std::uint64_t peak = StatusBytes("VmHWM");
  std::printf("%llu %llu\n", static_cast<unsigned long long>(peak - before),
              static_cast<unsigned long long>(std::get<Array>(*restored).num_bytes()));
  std::fflush(stdout);
  return 0;
}

struct Measured {
  std::uint64_t growth = 0;
  std::uint64_t output = 0;
};

// Runs MeasureInChild in a forked child and reads what it printed.
Result<Measured> Measure(const fs::path& dir, Compression compression) {
  int fds[2];
  if (pipe(fds) != 0) return InternalError("pipe failed");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    _exit(MeasureInChild(dir, compression));
  }
  close(fds[1]);
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return InternalError("child failed, status " + std::to_string(status));
  }
  Measured m;
  if (std::sscanf(text.c_str(), "%llu %llu", reinterpret_cast<unsigned long long*>(&m.growth),
                  reinterpret_cast<unsigned long long*>(&m.output)) != 2) {
    return InternalError("child printed \"" + text + "\"");
  }
  return m;
}

TEST(RestoreMemoryTest, PeakIsTheOutputPlusABoundedWorkingSet) {
#ifdef STOWAGE_UNDER_ASAN
  GTEST_SKIP() << "resident sizes are meaningless under AddressSanitizer";
#endif
  if (!fs::exists("/proc/self/clear_refs")) GTEST_SKIP() << "no /proc/self/clear_refs";
  for (Compression compression : {Compression::kNone, Compression::kZstd}) {
    testing::TempDir tmp;
    ASSERT_OK_AND_ASSIGN(Measured m, Measure(tmp.path() / "ckpt", compression));
    EXPECT_EQ(m.output, static_cast<std::uint64_t>(kElements) * 4);
    std::printf("restore of %.1f MiB (%s): peak grew by %.1f MiB\n", m.output / 1048576.0,
                compression == Compression::kNone ? "raw" : "zstd", m.growth / 1048576.0);
    EXPECT_LE(m.growth, m.output + kInFlight + kSlack)
        << "peak grew by " << (m.growth >> 20) << " MiB for " << (m.output >> 20)
        << " MiB of output";
  }
}

}  // namespace
}  // namespace stowage
