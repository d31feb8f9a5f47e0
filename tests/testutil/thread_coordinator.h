// Several "processes" as threads of one test process: coordinators that
// carry out stowage's collective steps between threads, so multi-process
// saves run (and run under ThreadSanitizer and fault injection) without MPI.
#pragma once

#include <memory>
#include <vector>

#include "stowage/coordinator.h"

namespace stowage::testing {

// `count` coordinators, process_index 0..count-1, that talk to each other:
// give each to one thread. A step waits for the same step (by order; its
// name must match, else kInternal) on every other coordinator, or returns
// kDeadlineExceeded after the timeout.
std::vector<std::shared_ptr<Coordinator>> ThreadCoordinators(int count);

}  // namespace stowage::testing
