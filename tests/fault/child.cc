#include "fault/child.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "fault/scenarios.h"
#include "stowage/fault_injection.h"

extern char** environ;

namespace stowage::fault {
namespace {

namespace fs = std::filesystem;

// Reads from `fd` until `marker` has arrived or the stream ends.
void ReadUntil(int fd, std::string& text, std::string_view marker) {
  char buffer[256];
  while (text.find(marker) == std::string::npos) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

std::vector<std::string> ChildArguments(const ChildRequest& r) {
  return {fs::read_symlink("/proc/self/exe").string(),
          "--fault-child",
          r.scenario,
          r.directory.string(),
          std::to_string(r.version),
          r.force ? "1" : "0",
          r.real_fsync ? "1" : "0",
          std::to_string(r.kill_at)};
}

void Describe(ChildOutcome& outcome, int status, const std::string& output) {
  if (WIFSIGNALED(status)) {
    outcome.killed = WTERMSIG(status) == SIGKILL;
    outcome.description = "died by signal " + std::to_string(WTERMSIG(status));
  } else {
    outcome.exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    outcome.description = "exited with " + std::to_string(WEXITSTATUS(status));
  }
  outcome.description += "; printed: " + output;
  if (auto at = output.find("ok "); at != std::string::npos) {
    outcome.save_seconds = std::stod(output.substr(at + 3));
  }
}

}  // namespace

ChildOutcome RunChild(const ChildRequest& request) {
  ChildOutcome outcome;
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {.description = "pipe failed"};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<std::string> args = ChildArguments(request);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return {.description = "posix_spawn failed: " + std::to_string(spawned)};
  }
  std::string output;
  ReadUntil(pipe_fds[0], output, "ready\n");
  if (request.kill_after_seconds.has_value()) {
    std::this_thread::sleep_for(std::chrono::duration<double>(*request.kill_after_seconds));
    ::kill(pid, SIGKILL);
  }
  ReadUntil(pipe_fds[0], output, "\n\n");  // to the end of the stream
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Describe(outcome, status, output);
  return outcome;
}

int ChildMain(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: --fault-child SCENARIO DIR VERSION FORCE REAL_FSYNC KILL_AT\n");
    return 64;
  }
  const Scenario* scenario = FindScenario(argv[2]);
  if (scenario == nullptr) {
    std::fprintf(stderr, "no scenario %s\n", argv[2]);
    return 64;
  }
  kvstore::FaultPlan plan{.at = std::stoull(argv[7]),
                          .action = kvstore::FaultAction::kKill,
                          .real_fsync = std::string_view(argv[6]) == "1"};
  auto injector = std::make_shared<kvstore::FaultInjector>(plan);
  kvstore::ScopedFaultInjection scope(injector);
  std::printf("ready\n");
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  Status saved = scenario->save(argv[3], std::stoi(argv[4]), std::string_view(argv[5]) == "1");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!saved.has_value()) {
    std::printf("error %s\n", saved.error().ToString().c_str());
    return 2;
  }
  std::printf("ok %.6f\n", seconds);
  return 0;
}

}  // namespace stowage::fault
