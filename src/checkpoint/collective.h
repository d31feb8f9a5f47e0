// The agreements a multi-process save needs, on top of a Coordinator: every
// process learns whether all of them succeeded, and what the primary
// process (0) did. A failure anywhere becomes an error everywhere.
#pragma once

#include <chrono>
#include <string_view>

#include "stowage/coordinator.h"
#include "stowage/error.h"

namespace stowage::checkpoint {

// The primary process: the one that finalizes and commits (Orbax's
// primary_host).
inline constexpr int kPrimaryProcess = 0;

// Every process passes its own outcome; all return OK only when every
// process succeeded. Otherwise a process that failed returns its own error,
// and the others kAborted naming the first failed process and its error.
// Errors of the exchange itself (kDeadlineExceeded: a peer is stuck or
// dead) are returned as they are.
Status AgreeOnStatus(Coordinator& coordinator, std::string_view step, const Status& local,
                     std::chrono::milliseconds timeout);

// The primary's outcome on every process (the others' `local` is ignored);
// an error of the primary becomes kAborted elsewhere, naming it.
Status ShareFromPrimary(Coordinator& coordinator, std::string_view step, const Status& local,
                        std::chrono::milliseconds timeout);

}  // namespace stowage::checkpoint
