#include <iostream>

#include "cli/commands.h"
#include "cli/progress.h"
#include "stowage/verify.h"

namespace stowage::cli {
namespace {

// At most this many files are named per unverifiable leaf.
constexpr std::size_t kMaxListedFiles = 5;

// "a, b, c (and 7 more)".
std::string ListFiles(const std::vector<std::string>& files) {
  std::string text;
  for (std::size_t i = 0; i < files.size() && i < kMaxListedFiles; ++i) {
    text += (i > 0 ? ", " : "") + files[i];
  }
  if (files.size() > kMaxListedFiles) {
    text += " (and " + std::to_string(files.size() - kMaxListedFiles) + " more)";
  }
  return text;
}

// The leaves whose chunks no checksum covers: a warning, not a problem.
void PrintUnverifiable(const std::vector<UnverifiableLeaf>& leaves) {
  if (leaves.empty()) return;
  std::cout << "unverifiable: " << leaves.size()
            << " leaf/leaves with chunks no checksum covers (a flipped byte there would go "
               "unnoticed):\n";
  for (const auto& leaf : leaves) {
    std::cout << "  " << leaf.leaf << ": " << leaf.why << ", " << leaf.chunks << " chunk(s) in "
              << ListFiles(leaf.files) << "\n";
  }
}

}  // namespace

Status RunVerify(const VerifyOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(VerifyReport report, VerifyCheckpoint(options.directory));
  std::cout << "checkpoint:  " << options.directory << "\n"
            << "arrays:      " << report.arrays << " read back whole ("
            << FormatBytes(static_cast<double>(report.array_bytes)) << ")";
  if (report.strings > 0) std::cout << ", " << report.strings << " string(s)";
  if (report.skipped > 0) std::cout << ", " << report.skipped << " skipped (legacy msgpack)";
  std::cout << "\n";
  if (report.ocdbt_databases > 0) {
    std::cout << "OCDBT:       " << report.ocdbt_databases << " database(s), " << report.ocdbt_keys
              << " keys read (" << FormatBytes(static_cast<double>(report.ocdbt_value_bytes))
              << "), every node and manifest checksum checked\n";
  }
  PrintUnverifiable(report.unverifiable);
  for (const auto& problem : report.problems) {
    std::cout << "PROBLEM:     " << problem.ToString() << "\n";
  }
  if (report.ok()) {
    std::cout << "result:      OK" << (report.unverifiable.empty() ? "" : " (partly unverifiable)")
              << "\n";
    return OkStatus();
  }
  std::cout << "result:      " << report.problems.size() << " problem(s)\n";
  const Error& first = report.problems.front();
  return Error(first.code(), std::to_string(report.problems.size()) + " problem(s) in " +
                                 options.directory + "; first: " + first.message());
}

}  // namespace stowage::cli
