#include <iostream>

#include "cli/commands.h"
#include "cli/progress.h"
#include "stowage/verify.h"

namespace stowage::cli {

Status RunVerify(const VerifyOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(VerifyReport report, VerifyCheckpoint(options.directory));
  std::cout << "checkpoint:  " << options.directory << "\n"
            << "arrays:      " << report.arrays << " read back whole ("
            << FormatBytes(static_cast<double>(report.array_bytes)) << ")";
  if (report.skipped > 0) std::cout << ", " << report.skipped << " skipped (legacy msgpack)";
  std::cout << "\n";
  if (report.ocdbt_databases > 0) {
    std::cout << "OCDBT:       " << report.ocdbt_databases << " database(s), " << report.ocdbt_keys
              << " keys read (" << FormatBytes(static_cast<double>(report.ocdbt_value_bytes))
              << "), every node and manifest checksum checked\n";
  }
  for (const auto& problem : report.problems) {
    std::cout << "PROBLEM:     " << problem.ToString() << "\n";
  }
  if (report.ok()) {
    std::cout << "result:      OK\n";
    return OkStatus();
  }
  std::cout << "result:      " << report.problems.size() << " problem(s)\n";
  const Error& first = report.problems.front();
  return Error(first.code(), std::to_string(report.problems.size()) + " problem(s) in " +
                                 options.directory + "; first: " + first.message());
}

}  // namespace stowage::cli
