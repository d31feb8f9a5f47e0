// stowage layer: mpi
//
// A Coordinator over MPI, for processes started by mpirun. Built only when
// CMake finds MPI (target stowage_mpi, CMake variable and compile definition
// STOWAGE_HAS_MPI).
//
// Threads: stowage runs collective steps on a background thread while the
// caller's threads may use MPI too, so MPI must be initialized with
// MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...) and provide that level; the
// factory refuses any lower level with kUnsupported (stowage cannot make the
// caller's own MPI calls wait for its own, so it cannot serialize them). The
// coordinator talks over its own duplicate of the communicator, so its
// messages never match the caller's.
//
// Timeouts: every step is non-blocking MPI polled until its deadline. MPI
// cannot cancel a collective that has started, so after a step times out (or
// MPI reports an error) the coordinator is unusable: every later call fails at
// once with kAborted. Start a new coordinator (on every process) to go on.
// A peer that dies makes the others time out, unless mpirun ends the job first
// (Open MPI's mpirun kills the other processes when one exits with a non-zero
// status or without MPI_Finalize).
//
// Lifetime: destroy the coordinator before MPI_Finalize. A coordinator that
// outlives MPI_Finalize releases nothing MPI owns (it checks MPI_Finalized);
// one whose timed-out step never completed keeps that step's buffers and its
// communicator until the process exits, as MPI may still write into them.
#pragma once

#include <mpi.h>

#include <chrono>
#include <memory>

#include "stowage/coordinator.h"
#include "stowage/error.h"

namespace stowage {

// A coordinator over a duplicate of `comm`; process_index() is this process's
// rank in `comm` and process_count() its size. Collective over `comm`: every
// process of `comm` calls it, in the same order relative to other collectives
// on `comm`. The duplication itself is bounded by `timeout` (kDeadlineExceeded).
// Errors: kInvalidArgument if MPI is not initialized, already finalized, or
// `comm` is MPI_COMM_NULL; kUnsupported if MPI provides less than
// MPI_THREAD_MULTIPLE; kAborted if MPI fails.
Result<std::shared_ptr<Coordinator>> MakeMpiCoordinator(
    MPI_Comm comm = MPI_COMM_WORLD, std::chrono::milliseconds timeout = std::chrono::minutes(1));

}  // namespace stowage
