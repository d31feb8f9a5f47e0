// stowage layer: base
//
// The collective steps that the processes saving one checkpoint together need:
// a barrier, a broadcast and an all-gather of small byte strings. A
// Coordinator hides how the processes talk (one process: nothing to do; MPI:
// stowage/mpi_coordinator.h).
//
// Every step has a timeout: a step that does not complete on every process in
// time returns kDeadlineExceeded instead of blocking, so a slow, stuck or dead
// peer can never hang a save. Every process must call the same steps in the
// same order with the same `root`; `name` only labels the step in errors.
//
// Thread safety: a Coordinator's methods are called from one thread at a time
// (stowage serializes its own use), which need not be the thread that created
// it. Different Coordinators may be used concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/error.h"

namespace stowage {

// The processes that take part in one checkpoint save, and the collective
// steps between them. Errors of every step:
//   kDeadlineExceeded  the step did not complete on every process within
//                      `timeout`; the message names the step, the timeout and
//                      this process's index. An implementation may be unusable
//                      afterwards (see its documentation).
//   kAborted           the coordinator gave up earlier (or the transport
//                      failed); nothing was exchanged.
//   kInvalidArgument   a bad argument, e.g. a root outside [0, process_count()).
class Coordinator {
 public:
  virtual ~Coordinator() = default;

  // This process's index in [0, process_count()); fixed for the lifetime.
  virtual int process_index() const = 0;
  // How many processes take part (>= 1); fixed for the lifetime.
  virtual int process_count() const = 0;

  // Returns once every process has entered the barrier called `name`.
  virtual Status Barrier(std::string_view name, std::chrono::milliseconds timeout) = 0;

  // Returns process `root`'s `value` on every process (other processes' values
  // are ignored).
  virtual Result<std::string> Broadcast(std::string_view name, std::string value, int root,
                                        std::chrono::milliseconds timeout) = 0;

  // Returns every process's `value`, indexed by process. Values may differ in
  // size (meant for small blobs: up to a few MB each).
  virtual Result<std::vector<std::string>> AllGather(std::string_view name, std::string value,
                                                     std::chrono::milliseconds timeout) = 0;
};

// A coordinator for a single process (index 0 of 1): every step returns at
// once, without looking at the timeout. Broadcast refuses a root other than 0.
std::shared_ptr<Coordinator> SingleProcessCoordinator();

}  // namespace stowage
