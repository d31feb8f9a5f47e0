#include "stowage/coordinator.h"

#include <utility>

namespace stowage {
namespace {

// The only process: every collective step is complete as soon as it starts.
class SingleProcess final : public Coordinator {
 public:
  int process_index() const override { return 0; }
  int process_count() const override { return 1; }

  Status Barrier(std::string_view, std::chrono::milliseconds) override { return OkStatus(); }

  Result<std::string> Broadcast(std::string_view name, std::string value, int root,
                                std::chrono::milliseconds) override {
    if (root != 0) {
      return InvalidArgumentError("broadcast '" + std::string(name) + "': root " +
                                  std::to_string(root) +
                                  " is not a process (single process: only root 0)");
    }
    return value;
  }

  Result<std::vector<std::string>> AllGather(std::string_view, std::string value,
                                             std::chrono::milliseconds) override {
    std::vector<std::string> all;
    all.push_back(std::move(value));
    return all;
  }
};

}  // namespace

std::shared_ptr<Coordinator> SingleProcessCoordinator() {
  return std::make_shared<SingleProcess>();
}

}  // namespace stowage
