// stowage layer: kvstore
//
// Fault injection, for proving that a save interrupted anywhere loses
// nothing (the way SQLite's fault simulator proves its journal). A
// FaultInjector counts the operations that change storage — writes
// (including directory creation), renames, fsyncs and deletes — and makes
// the N-th one fail with kIo, or kills the process with SIGKILL at that
// moment. A failing or killed write first writes half of its bytes, as a
// torn write would.
//
// Two ways to put an injector in the path of a save:
//   - ScopedFaultInjection: every file operation of this process (the file
//     store, the checkpointer's commit renames and fsyncs) consults it;
//   - WithFaults: a Store wrapper whose Write, Delete and appends consult it,
//     for any store (memory, OCDBT over any store).
// With no injector installed, a file operation costs one atomic load more.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "stowage/error.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore {

// The storage operations a FaultInjector counts.
enum class FaultOp : std::uint8_t { kWrite = 1, kRename = 2, kFsync = 4, kDelete = 8 };

// What happens at the planned fault.
enum class FaultAction {
  kFail,  // the operation returns kIo naming its path (a full disk, an EIO)
  kKill,  // the process dies by SIGKILL (a crash, a power cut of the process)
};

// Which operation faults, and how.
struct FaultPlan {
  // The `at`-th counted operation (1-based) faults; 0 never faults (the
  // injector then only counts, which tells a test how many points to walk).
  std::uint64_t at = 0;
  FaultAction action = FaultAction::kFail;
  // Every counted operation after the fault fails too (a disk that has gone
  // away), not only the `at`-th one.
  bool persistent = false;
  // The FaultOp values (or-ed) that are counted; the others pass untouched.
  std::uint8_t ops = 0xF;
  // False: file fsyncs are counted (and may fault) but do not reach the
  // disk. A killed process loses nothing the page cache holds, so walking
  // the crash points of a save needs no real fsync, and runs much faster.
  bool real_fsync = true;
};

// Counts storage operations and injects the planned fault. Thread safe:
// concurrent operations are counted in the order they reach it.
class FaultInjector {
 public:
  explicit FaultInjector(FaultPlan plan = {}) : plan_(plan) {}

  // Called before operation `op` on `what` (a path or key). OK unless this
  // is the planned fault (or a later one with `persistent`): then kIo naming
  // `what`, or, with kKill, the process dies here. At a fault, `torn` (if
  // given) runs first: the caller's partial effect, e.g. half a write.
  Status Before(FaultOp op, std::string_view what, const std::function<void()>& torn = {});

  // How many counted operations have been seen.
  std::uint64_t operations() const { return count_.load(); }
  // True once the planned fault has happened.
  bool fired() const { return fired_.load(); }
  // Whether counted fsyncs reach the disk (FaultPlan::real_fsync).
  bool real_fsync() const { return plan_.real_fsync; }

 private:
  FaultPlan plan_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<bool> fired_{false};
};

// While alive, every file operation in this process consults `injector`.
// One at a time: installing a second while one is alive is a bug (asserted).
class ScopedFaultInjection {
 public:
  explicit ScopedFaultInjection(std::shared_ptr<FaultInjector> injector);
  ~ScopedFaultInjection();
  ScopedFaultInjection(const ScopedFaultInjection&) = delete;
  ScopedFaultInjection& operator=(const ScopedFaultInjection&) = delete;

 private:
  std::shared_ptr<FaultInjector> injector_;
};

// A store that behaves as `inner` but consults `injector` before each Write
// (kWrite), Delete (kDelete), AppendWriter::Append (kWrite) and
// AppendWriter::Close (kFsync). Reads pass through.
std::unique_ptr<Store> WithFaults(std::shared_ptr<Store> inner,
                                  std::shared_ptr<FaultInjector> injector);

}  // namespace stowage::kvstore
