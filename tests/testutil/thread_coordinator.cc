#include "testutil/thread_coordinator.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace stowage::testing {
namespace {

// One collective step: each participant's value, and who has arrived and left.
struct Round {
  std::string name;
  std::vector<std::string> values;
  int arrived = 0, departed = 0;
};

// What the coordinators of one group share.
struct Group {
  explicit Group(int count) : count(count) {}
  const int count;
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::uint64_t, Round> rounds;  // by step number
};

class ThreadCoordinator final : public Coordinator {
 public:
  ThreadCoordinator(std::shared_ptr<Group> group, int index)
      : group_(std::move(group)), index_(index) {}

  int process_index() const override { return index_; }
  int process_count() const override { return group_->count; }

  Status Barrier(std::string_view name, std::chrono::milliseconds timeout) override {
    STOWAGE_ASSIGN_OR_RETURN(auto values, Exchange(name, "", timeout));
    return OkStatus();
  }

  Result<std::string> Broadcast(std::string_view name, std::string value, int root,
                                std::chrono::milliseconds timeout) override {
    if (root < 0 || root >= group_->count) {
      return InvalidArgumentError("broadcast " + std::string(name) + ": root " +
                                  std::to_string(root) + " is not a process");
    }
    STOWAGE_ASSIGN_OR_RETURN(auto values, Exchange(name, std::move(value), timeout));
    return values[root];
  }

  Result<std::vector<std::string>> AllGather(std::string_view name, std::string value,
                                             std::chrono::milliseconds timeout) override {
    return Exchange(name, std::move(value), timeout);
  }

 private:
  // Deposits `value` for this process's next step and returns everyone's.
  Result<std::vector<std::string>> Exchange(std::string_view name, std::string value,
                                            std::chrono::milliseconds timeout) {
    std::unique_lock lock(group_->mutex);
    Round& round = group_->rounds[step_++];
    if (round.values.empty()) {
      round.name = std::string(name);
      round.values.resize(group_->count);
    }
    if (round.name != name) {
      return InternalError("process " + std::to_string(index_) + " called step " +
                           std::string(name) + " while another called " + round.name);
    }
    round.values[index_] = std::move(value);
    ++round.arrived;
    group_->changed.notify_all();
    if (!group_->changed.wait_for(lock, timeout, [&] { return round.arrived == group_->count; })) {
      return DeadlineExceededError("step " + std::string(name) + " timed out after " +
                                   std::to_string(timeout.count()) + " ms on process " +
                                   std::to_string(index_));
    }
    std::vector<std::string> values = round.values;
    if (++round.departed == group_->count) group_->rounds.erase(step_ - 1);
    return values;
  }

  std::shared_ptr<Group> group_;
  int index_;
  std::uint64_t step_ = 0;
};

}  // namespace

std::vector<std::shared_ptr<Coordinator>> ThreadCoordinators(int count) {
  auto group = std::make_shared<Group>(count);
  std::vector<std::shared_ptr<Coordinator>> coordinators;
  for (int i = 0; i < count; ++i) {
    coordinators.push_back(std::make_shared<ThreadCoordinator>(group, i));
  }
  return coordinators;
}

std::vector<Status> OnEveryProcess(
    int count, const std::function<Status(int, std::shared_ptr<Coordinator>)>& body) {
  auto coordinators = ThreadCoordinators(count);
  std::vector<Status> outcomes(count, OkStatus());
  std::vector<std::thread> threads;
  for (int p = 0; p < count; ++p) {
    threads.emplace_back([&, p] { outcomes[p] = body(p, coordinators[p]); });
  }
  for (auto& thread : threads) thread.join();
  return outcomes;
}

}  // namespace stowage::testing
