// Runs a scenario's save in a child process (this test binary re-run with
// --fault-child), so that the save can die by SIGKILL without taking the
// test with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace stowage::fault {

struct ChildRequest {
  std::string scenario;
  std::filesystem::path directory;
  int version = 2;
  bool force = false;
  // Whether fsyncs reach the disk (see kvstore::FaultPlan::real_fsync).
  bool real_fsync = false;
  // The child kills itself at this storage operation (0: never).
  std::uint64_t kill_at = 0;
  // The parent kills the child this long after its save starts.
  std::optional<double> kill_after_seconds;
};

struct ChildOutcome {
  bool killed = false;     // died by SIGKILL
  bool exited_ok = false;  // the save finished and succeeded
  double save_seconds = 0;
  std::string description;  // how it ended and what it printed
};

// Starts the child, kills it as requested, and waits for it.
ChildOutcome RunChild(const ChildRequest& request);

// main() of the child: argv[1] is "--fault-child".
int ChildMain(int argc, char** argv);

}  // namespace stowage::fault
