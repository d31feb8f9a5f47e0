#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace stowage::cli {

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buf;
}

ProgressReporter::ProgressReporter(std::string label, std::uint64_t total_bytes, bool quiet)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(!quiet && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressReporter::~ProgressReporter() { Finish(); }

std::function<void(std::uint64_t)> ProgressReporter::Callback() {
  if (!enabled_) return {};
  return [this](std::uint64_t bytes) { Add(bytes); };
}

void ProgressReporter::Add(std::uint64_t bytes) {
  done_ += bytes;
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(false);
}

void ProgressReporter::Draw(bool final) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double done = static_cast<double>(done_.load());
  std::string rate = seconds > 0 ? FormatBytes(done / seconds) + "/s" : "";
  std::fprintf(stderr, "\r%s %s / %s  %s\033[K%s", label_.c_str(), FormatBytes(done).c_str(),
               FormatBytes(static_cast<double>(total_)).c_str(), rate.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

void ProgressReporter::Finish() {
  std::lock_guard lock(mutex_);
  if (!enabled_ || finished_) return;
  finished_ = true;
  Draw(true);
}

}  // namespace stowage::cli
