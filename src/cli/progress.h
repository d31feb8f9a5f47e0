// Progress of a long import or export on stderr: bytes done, total and rate,
// redrawn at most ten times a second, only when stderr is a terminal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace stowage::cli {

class ProgressReporter {
 public:
  // Reports nothing when `quiet` or when stderr is not a terminal.
  ProgressReporter(std::string label, std::uint64_t total_bytes, bool quiet);
  ~ProgressReporter();

  // A callback for the library's progress option (thread-safe).
  std::function<void(std::uint64_t)> Callback();

  // Draws the final line and ends it.
  void Finish();

 private:
  void Add(std::uint64_t bytes);
  void Draw(bool final);

  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  std::atomic<std::uint64_t> done_{0};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
};

// "1.5 GiB"
std::string FormatBytes(double bytes);

}  // namespace stowage::cli
