// stowage layer: checkpoint
//
// Checkpointer and AsyncCheckpointer make a handler's save atomic, as Orbax's
// do (orbax `_src/checkpointers/checkpointer.py`, `async_checkpointer.py`,
// `_src/path/atomicity.py`):
//   1. the save goes into the sibling `<dir>.orbax-checkpoint-tmp`, with an
//      initial `_CHECKPOINT_METADATA` (init timestamp);
//   2. the handler writes its files there and finalizes;
//   3. `_CHECKPOINT_METADATA` gets the handler typestr, custom metadata and
//      commit timestamp, `commit_success.txt` is written, everything is
//      fsynced, and the temporary directory is renamed to `<dir>`.
// A crash at any point leaves either no `<dir>` (or the previous one, when
// forcing an overwrite) plus a temporary directory that is never taken for a
// checkpoint and is removed by the next save of the same `<dir>`.
//
// `Handler` needs: `SaveArgsType`, `RestoreArgsType`, `Restored`, `kTypestr`,
// `AsyncSave(dir, SaveArgsType) -> Result<std::vector<Future<void>>>`,
// `Restore(dir, const RestoreArgsType&) -> Result<Restored>`,
// `Finalize(dir) -> Status` (ArrayCheckpointHandler qualifies), and
// optionally `ItemHandlers() -> nlohmann::ordered_json` (composites).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "stowage/coordinator.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"

namespace stowage {

struct CheckpointSaveOptions {
  // Replace an existing checkpoint at the destination (the old one stays in
  // place until the new one is complete). Otherwise kAlreadyExists.
  bool force = false;
  // Stored as `custom_metadata` in `_CHECKPOINT_METADATA`.
  nlohmann::ordered_json custom_metadata = nlohmann::ordered_json::object();
  kvstore::FsyncPolicy fsync = kvstore::FsyncPolicy::kEveryWrite;
  // The clock of `_CHECKPOINT_METADATA`'s init and commit timestamps
  // (unset: the system clock); a CheckpointManager passes its own.
  std::function<std::chrono::system_clock::time_point()> clock;
};

namespace internal {

// Steps 1 and 3 of the protocol above, shared by both checkpointers.
// BeginAtomicSave returns the temporary directory to save into.
// Errors: kAlreadyExists (destination exists and !force), kIo.
Result<std::filesystem::path> BeginAtomicSave(const std::filesystem::path& directory,
                                              const CheckpointSaveOptions& options);
Status CommitAtomicSave(const std::filesystem::path& temporary,
                        const std::filesystem::path& directory,
                        const nlohmann::ordered_json& item_handlers,
                        const CheckpointSaveOptions& options);
// Removes the temporary directory of a failed save.
void AbandonAtomicSave(const std::filesystem::path& temporary);
// OK when `directory` is a finalized checkpoint. Errors: kNotFound,
// kInvalidArgument (an unfinished temporary directory).
Status CheckFinalized(const std::filesystem::path& directory);

// The processes saving one checkpoint together and how long a collective
// step may wait: the handler's (its `coordinator()` and
// `collective_timeout()`), or this process alone.
struct SaveGroup {
  Coordinator* coordinator;
  std::chrono::milliseconds timeout;
};
template <typename Handler>
SaveGroup SaveGroupOf(const Handler& handler) {
  if constexpr (requires { handler.coordinator(); }) {
    return {&handler.coordinator(), handler.collective_timeout()};
  } else {
    return {nullptr, std::chrono::milliseconds(0)};
  }
}

// Multi-process forms of the steps above: the primary process creates,
// commits or abandons the temporary directory, and every process learns
// the outcome (a failure anywhere is an error everywhere). With a null
// coordinator they are the single-process steps. CommitGroupSave takes this
// process's outcome of writing and commits only if all succeeded.
Result<std::filesystem::path> BeginGroupSave(const std::filesystem::path& directory,
                                             const CheckpointSaveOptions& options,
                                             const SaveGroup& group);
Status CommitGroupSave(const std::filesystem::path& temporary,
                       const std::filesystem::path& directory,
                       const nlohmann::ordered_json& item_handlers,
                       const CheckpointSaveOptions& options, const SaveGroup& group,
                       const Status& written);

// What `_CHECKPOINT_METADATA.item_handlers` records for `handler`'s last
// save: its typestr, or the item -> typestr map of a composite handler.
template <typename Handler>
nlohmann::ordered_json ItemHandlersOf(const Handler& handler) {
  if constexpr (requires { handler.ItemHandlers(); }) {
    return handler.ItemHandlers();
  } else {
    return std::string(Handler::kTypestr);
  }
}

}  // namespace internal

// Saves synchronously and atomically through `Handler`.
template <typename Handler>
class Checkpointer {
 public:
  explicit Checkpointer(Handler handler) : handler_(std::move(handler)) {}

  // Saves `args` to `directory` atomically (see the file comment). On error
  // nothing is left at `directory` (or the previous checkpoint is intact).
  // With a handler saving over several processes, every process calls Save
  // with its part; all return the same outcome.
  Status Save(const std::filesystem::path& directory, typename Handler::SaveArgsType args,
              const CheckpointSaveOptions& options = {}) {
    internal::SaveGroup group = internal::SaveGroupOf(handler_);
    STOWAGE_ASSIGN_OR_RETURN(auto temporary, internal::BeginGroupSave(directory, options, group));
    Status written = SaveInto(temporary, std::move(args));
    return internal::CommitGroupSave(temporary, directory, internal::ItemHandlersOf(handler_),
                                     options, group, written);
  }

  // Restores a finalized checkpoint. Errors: those of CheckFinalized and of
  // the handler's Restore.
  Result<typename Handler::Restored> Restore(const std::filesystem::path& directory,
                                             const typename Handler::RestoreArgsType& args = {}) {
    STOWAGE_RETURN_IF_ERROR(internal::CheckFinalized(directory));
    return handler_.Restore(directory, args);
  }

  Handler& handler() { return handler_; }

 private:
  Status SaveInto(const std::filesystem::path& temporary, typename Handler::SaveArgsType args) {
    STOWAGE_ASSIGN_OR_RETURN(auto futures, handler_.AsyncSave(temporary, std::move(args)));
    STOWAGE_RETURN_IF_ERROR(WaitAll(futures));
    return handler_.Finalize(temporary);
  }

  Handler handler_;
};

// Saves in the background: AsyncSave returns once the data is snapshotted;
// writing, finalizing and the atomic commit happen on worker threads.
// Destruction waits for the save in flight.
template <typename Handler>
class AsyncCheckpointer {
 public:
  explicit AsyncCheckpointer(Handler handler) : handler_(std::move(handler)) {}
  ~AsyncCheckpointer() { (void)WaitUntilFinished(); }
  AsyncCheckpointer(const AsyncCheckpointer&) = delete;
  AsyncCheckpointer& operator=(const AsyncCheckpointer&) = delete;

  // Snapshots `args`, starts the save and returns a future of its commit.
  // Nothing is visible at `directory` before that future is ready; on
  // failure nothing is. A save may start while earlier ones are still
  // writing or committing (each holds its own snapshot); commits happen in
  // the order the saves started. Saves over several processes, and a save
  // to a directory still being saved, first wait for the save in flight.
  // With a handler saving over several processes, every process calls
  // AsyncSave with its part; all commit futures get the same outcome.
  Result<Future<void>> AsyncSave(const std::filesystem::path& directory,
                                 typename Handler::SaveArgsType args,
                                 const CheckpointSaveOptions& options = {}) {
    internal::SaveGroup group = internal::SaveGroupOf(handler_);
    std::optional<Future<void>> previous = PreviousSave(directory, group);
    STOWAGE_ASSIGN_OR_RETURN(auto temporary, internal::BeginGroupSave(directory, options, group));
    auto futures = handler_.AsyncSave(temporary, std::move(args));
    if (!futures.has_value()) {
      return internal::CommitGroupSave(temporary, directory, nullptr, options, group,
                                       futures.error())
          .error();
    }
    auto promise = std::make_shared<Promise<void>>();
    Future<void> committed = promise->future();
    nlohmann::ordered_json item_handlers = internal::ItemHandlersOf(handler_);
    {
      std::lock_guard lock(mutex_);
      in_flight_ = committed;
      saving_.emplace_back(directory, committed);
    }
    // The commit may wait for other processes: a thread of its own, not a
    // worker of the pool that writes the data.
    std::thread([this, written = WhenAll(std::move(*futures)), promise, temporary, directory,
                 options, item_handlers, group, previous] {
      Status status = written.Wait();
      if (previous) (void)previous->Wait();  // commits in order
      if (status.has_value()) status = handler_.Finalize(temporary);
      promise->Set(
          internal::CommitGroupSave(temporary, directory, item_handlers, options, group, status));
    }).detach();
    return committed;
  }

  // Waits for the save in flight (if any) and returns its outcome.
  Status WaitUntilFinished() {
    std::optional<Future<void>> in_flight;
    {
      std::lock_guard lock(mutex_);
      in_flight = in_flight_;
    }
    if (!in_flight) return OkStatus();
    return in_flight->Wait();
  }

  // Restores a finalized checkpoint (waits for nothing).
  Result<typename Handler::Restored> Restore(const std::filesystem::path& directory,
                                             const typename Handler::RestoreArgsType& args = {}) {
    STOWAGE_RETURN_IF_ERROR(internal::CheckFinalized(directory));
    return handler_.Restore(directory, args);
  }

  Handler& handler() { return handler_; }

 private:
  // The save in flight that a new save to `directory` commits after, having
  // waited for it already when the save cannot overlap it.
  std::optional<Future<void>> PreviousSave(const std::filesystem::path& directory,
                                           const internal::SaveGroup& group) {
    std::optional<Future<void>> previous;
    bool same_directory = false;
    {
      std::lock_guard lock(mutex_);
      previous = in_flight_;
      std::erase_if(saving_, [](const auto& save) { return save.second.ready(); });
      for (const auto& save : saving_) same_directory |= save.first == directory;
    }
    bool many_processes = group.coordinator && group.coordinator->process_count() > 1;
    if (previous && (many_processes || same_directory)) {
      (void)previous->Wait();
      previous.reset();
    }
    return previous;
  }

  Handler handler_;
  std::mutex mutex_;
  std::optional<Future<void>> in_flight_;  // the latest save: commits after all others
  std::vector<std::pair<std::filesystem::path, Future<void>>> saving_;  // not yet committed
};

}  // namespace stowage
