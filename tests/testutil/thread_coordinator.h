// Several "processes" as threads of one test process: coordinators that
// carry out stowage's collective steps between threads, so multi-process
// saves run (and run under ThreadSanitizer and fault injection) without MPI.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "stowage/coordinator.h"
#include "stowage/error.h"

namespace stowage::testing {

// `count` coordinators, process_index 0..count-1, that talk to each other:
// give each to one thread. A step waits for the same step (by order; its
// name must match, else kInternal) on every other coordinator, or returns
// kDeadlineExceeded after the timeout.
std::vector<std::shared_ptr<Coordinator>> ThreadCoordinators(int count);

// Runs `body(p, coordinator)` for p in [0, count) on one thread each, over
// ThreadCoordinators(count); returns their outcomes by process.
std::vector<Status> OnEveryProcess(
    int count, const std::function<Status(int, std::shared_ptr<Coordinator>)>& body);

}  // namespace stowage::testing
