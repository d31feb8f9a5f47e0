#include "stowage/mpi_coordinator.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace stowage {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The most bytes one MPI message (an int count of MPI_BYTE) can carry.
constexpr std::uint64_t kMaxBytes = INT_MAX;
// Sent instead of a size that exceeds kMaxBytes, so every process fails alike.
constexpr std::uint64_t kTooLarge = UINT64_MAX;
// Polling backoff: the first pause after an incomplete MPI_Test, and the longest.
constexpr std::chrono::microseconds kFirstPause(20);
constexpr std::chrono::microseconds kLongestPause(2000);
// Longer timeouts are treated as this long (keeps `now + timeout` finite).
constexpr milliseconds kLongestTimeout = std::chrono::hours(24 * 365);

// One non-blocking MPI operation plus every buffer MPI may read or write until
// it completes. Heap-allocated so that a timed-out one can outlive the call.
struct Exchange {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Comm new_comm = MPI_COMM_NULL;  // MPI_Comm_idup's result
  std::uint64_t size = 0;             // the broadcast size, or this process's size
  std::vector<std::uint64_t> sizes;   // every process's size (all-gather)
  std::vector<int> counts;            // MPI_Iallgatherv's counts and offsets
  std::vector<int> offsets;
  std::string send;   // this process's value (all-gather)
  std::string bytes;  // the broadcast value, or every value back to back
};

using ExchangePtr = std::unique_ptr<Exchange>;

// Keeps exchanges whose MPI operation never completed until the process exits:
// MPI may still write into their buffers. They stay reachable (no leak report).
void KeepForever(std::vector<ExchangePtr> exchanges) {
  static auto* mutex = new std::mutex();
  static auto* kept = new std::vector<ExchangePtr>();
  std::lock_guard lock(*mutex);
  for (ExchangePtr& exchange : exchanges) kept->push_back(std::move(exchange));
}

std::string MpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    return "MPI error " + std::to_string(code);
  }
  return std::string(text, length);
}

bool MpiFinalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

std::string ThreadLevelName(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    default:
      return std::to_string(level);
  }
}

Clock::time_point DeadlineAfter(milliseconds timeout) {
  return Clock::now() + std::clamp(timeout, milliseconds(0), kLongestTimeout);
}

enum class Outcome { kDone, kTimedOut, kFailed };

// Polls `request` with MPI_Test (which also drives MPI's progress), pausing a
// little longer each time, until it completes, MPI fails (`*mpi_error`) or
// `deadline` passes. Tests at least once, so a zero timeout still succeeds
// when the operation is already complete.
Outcome PollUntil(MPI_Request* request, Clock::time_point deadline, int* mpi_error) {
  std::chrono::microseconds pause = kFirstPause;
  while (true) {
    int done = 0;
    *mpi_error = MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (*mpi_error != MPI_SUCCESS) return Outcome::kFailed;
    if (done) return Outcome::kDone;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return Outcome::kTimedOut;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kLongestPause);
  }
}

// One collective call: what it is, for messages, and when it must be done.
struct Step {
  std::string description;  // e.g. "barrier 'commit'"
  milliseconds timeout;
  Clock::time_point deadline;
};

Step MakeStep(std::string_view kind, std::string_view name, milliseconds timeout) {
  return {std::string(kind) + " '" + std::string(name) + "'", timeout, DeadlineAfter(timeout)};
}

// The MPI implementation of Coordinator; see stowage/mpi_coordinator.h.
class MpiCoordinator final : public Coordinator {
 public:
  MpiCoordinator(MPI_Comm comm, int index, int count) : comm_(comm), index_(index), count_(count) {}
  MpiCoordinator(const MpiCoordinator&) = delete;
  MpiCoordinator& operator=(const MpiCoordinator&) = delete;
  ~MpiCoordinator() override;

  int process_index() const override { return index_; }
  int process_count() const override { return count_; }
  Status Barrier(std::string_view name, milliseconds timeout) override;
  Result<std::string> Broadcast(std::string_view name, std::string value, int root,
                                milliseconds timeout) override;
  Result<std::vector<std::string>> AllGather(std::string_view name, std::string value,
                                             milliseconds timeout) override;

 private:
  std::string Where() const;
  Status CheckUsable(const Step& step) const;
  Status Run(int start_error, ExchangePtr& exchange, const Step& step);
  Error GiveUp(Error error, ExchangePtr exchange);
  Status PlanGather(Exchange& exchange, const Step& step) const;

  const MPI_Comm comm_;
  const int index_;
  const int count_;
  std::mutex mutex_;              // guards the members below and serializes calls
  std::optional<Error> failure_;  // why the coordinator gave up, if it did
  std::vector<ExchangePtr> abandoned_;
};

MpiCoordinator::~MpiCoordinator() {
  if (MpiFinalized()) return;  // MPI released the communicator and requests
  std::erase_if(abandoned_, [](ExchangePtr& exchange) {
    int done = 0;
    return MPI_Test(&exchange->request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done;
  });
  if (!abandoned_.empty()) {
    // An operation on comm_ may still complete: keep it and its buffers.
    KeepForever(std::move(abandoned_));
    return;
  }
  MPI_Comm comm = comm_;
  MPI_Comm_free(&comm);
}

std::string MpiCoordinator::Where() const {
  return "on process " + std::to_string(index_) + " of " + std::to_string(count_);
}

Status MpiCoordinator::CheckUsable(const Step& step) const {
  if (failure_) {
    return AbortedError(step.description + " refused " + Where() +
                        ": the MPI coordinator gave up at an earlier step (" +
                        failure_->ToString() + ")");
  }
  if (MpiFinalized()) {
    return AbortedError(step.description + " refused " + Where() + ": MPI is finalized");
  }
  return OkStatus();
}

// Records `error` as the reason this coordinator is unusable, keeps
// `exchange` (its operation may still be pending) and returns `error`.
Error MpiCoordinator::GiveUp(Error error, ExchangePtr exchange) {
  failure_ = error;
  abandoned_.push_back(std::move(exchange));
  return error;
}

// Waits for the operation that `start_error` reports started on `exchange`.
Status MpiCoordinator::Run(int start_error, ExchangePtr& exchange, const Step& step) {
  if (start_error != MPI_SUCCESS) {
    return GiveUp(AbortedError(step.description + " could not start " + Where() +
                               ": MPI: " + MpiErrorText(start_error)),
                  std::move(exchange));
  }
  int mpi_error = MPI_SUCCESS;
  switch (PollUntil(&exchange->request, step.deadline, &mpi_error)) {
    case Outcome::kDone:
      return OkStatus();
    case Outcome::kTimedOut:
      return GiveUp(DeadlineExceededError(step.description + " timed out after " +
                                          std::to_string(step.timeout.count()) + " ms " + Where() +
                                          " (a peer is slow, stuck or dead)"),
                    std::move(exchange));
    case Outcome::kFailed:
      break;
  }
  return GiveUp(
      AbortedError(step.description + " failed " + Where() + ": MPI: " + MpiErrorText(mpi_error)),
      std::move(exchange));
}

Status MpiCoordinator::Barrier(std::string_view name, milliseconds timeout) {
  std::lock_guard lock(mutex_);
  const Step step = MakeStep("barrier", name, timeout);
  STOWAGE_RETURN_IF_ERROR(CheckUsable(step));
  auto exchange = std::make_unique<Exchange>();
  return Run(MPI_Ibarrier(comm_, &exchange->request), exchange, step);
}

// Broadcasts the size (kTooLarge if over kMaxBytes), then the bytes.
Result<std::string> MpiCoordinator::Broadcast(std::string_view name, std::string value, int root,
                                              milliseconds timeout) {
  std::lock_guard lock(mutex_);
  const Step step = MakeStep("broadcast", name, timeout);
  STOWAGE_RETURN_IF_ERROR(CheckUsable(step));
  if (root < 0 || root >= count_) {
    return InvalidArgumentError(step.description + ": root " + std::to_string(root) +
                                " is not a process (there are " + std::to_string(count_) + ")");
  }
  auto exchange = std::make_unique<Exchange>();
  const bool is_root = root == index_;
  if (is_root) exchange->size = value.size() <= kMaxBytes ? value.size() : kTooLarge;
  STOWAGE_RETURN_IF_ERROR(
      Run(MPI_Ibcast(&exchange->size, 1, MPI_UINT64_T, root, comm_, &exchange->request), exchange,
          step));
  if (exchange->size == kTooLarge) {
    return ResourceExhaustedError(step.description + ": the root's value is larger than " +
                                  std::to_string(kMaxBytes) + " bytes, MPI's limit");
  }
  if (is_root) {
    exchange->bytes = std::move(value);
  } else {
    exchange->bytes.resize(exchange->size);
  }
  if (exchange->size > 0) {
    STOWAGE_RETURN_IF_ERROR(Run(MPI_Ibcast(exchange->bytes.data(), static_cast<int>(exchange->size),
                                           MPI_BYTE, root, comm_, &exchange->request),
                                exchange, step));
  }
  return std::move(exchange->bytes);
}

// Fills counts and offsets from the gathered sizes; the same on every process,
// so a total over kMaxBytes fails everywhere and leaves the coordinator usable.
Status MpiCoordinator::PlanGather(Exchange& exchange, const Step& step) const {
  std::uint64_t total = 0;
  for (std::uint64_t size : exchange.sizes) {
    if (size == kTooLarge || total + size > kMaxBytes) {
      return ResourceExhaustedError(step.description + ": the values total more than " +
                                    std::to_string(kMaxBytes) + " bytes, MPI's limit");
    }
    exchange.offsets.push_back(static_cast<int>(total));
    exchange.counts.push_back(static_cast<int>(size));
    total += size;
  }
  exchange.bytes.resize(total);
  return OkStatus();
}

// All-gathers the sizes, then the bytes with MPI_Iallgatherv.
Result<std::vector<std::string>> MpiCoordinator::AllGather(std::string_view name, std::string value,
                                                           milliseconds timeout) {
  std::lock_guard lock(mutex_);
  const Step step = MakeStep("all-gather", name, timeout);
  STOWAGE_RETURN_IF_ERROR(CheckUsable(step));
  auto exchange = std::make_unique<Exchange>();
  exchange->size = value.size() <= kMaxBytes ? value.size() : kTooLarge;
  exchange->sizes.resize(count_);
  STOWAGE_RETURN_IF_ERROR(
      Run(MPI_Iallgather(&exchange->size, 1, MPI_UINT64_T, exchange->sizes.data(), 1, MPI_UINT64_T,
                         comm_, &exchange->request),
          exchange, step));
  STOWAGE_RETURN_IF_ERROR(PlanGather(*exchange, step));
  exchange->send = std::move(value);
  if (!exchange->bytes.empty()) {
    STOWAGE_RETURN_IF_ERROR(
        Run(MPI_Iallgatherv(exchange->send.data(), static_cast<int>(exchange->send.size()),
                            MPI_BYTE, exchange->bytes.data(), exchange->counts.data(),
                            exchange->offsets.data(), MPI_BYTE, comm_, &exchange->request),
            exchange, step));
  }
  std::vector<std::string> values;
  values.reserve(count_);
  for (int i = 0; i < count_; ++i) {
    values.push_back(exchange->bytes.substr(exchange->offsets[i], exchange->counts[i]));
  }
  return values;
}

// MPI is initialized, not finalized, and safe to call from any thread at once.
Status CheckMpiReady() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    return InvalidArgumentError(
        "MPI coordinator: MPI is not initialized; call "
        "MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...) first");
  }
  if (MpiFinalized()) return InvalidArgumentError("MPI coordinator: MPI is already finalized");
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_MULTIPLE) {
    return UnsupportedError(
        "MPI coordinator: MPI provides only " + ThreadLevelName(provided) +
        "; stowage runs collective steps on a background thread while the caller may use MPI, "
        "so it needs MPI_THREAD_MULTIPLE (initialize MPI with "
        "MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...))");
  }
  return OkStatus();
}

Status CheckCommunicator(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL) {
    return InvalidArgumentError("MPI coordinator: the communicator is MPI_COMM_NULL");
  }
  int is_inter = 0;
  MPI_Comm_test_inter(comm, &is_inter);
  if (is_inter) {
    return InvalidArgumentError("MPI coordinator: an intercommunicator cannot be used");
  }
  return OkStatus();
}

// A duplicate of `comm` (MPI_Comm_idup polled until `timeout`) that reports
// errors as return codes instead of aborting the job.
Result<MPI_Comm> Duplicate(MPI_Comm comm, milliseconds timeout) {
  auto exchange = std::make_unique<Exchange>();
  int mpi_error = MPI_Comm_idup(comm, &exchange->new_comm, &exchange->request);
  if (mpi_error != MPI_SUCCESS) {
    return AbortedError("MPI coordinator: MPI_Comm_idup failed: " + MpiErrorText(mpi_error));
  }
  const Outcome outcome = PollUntil(&exchange->request, DeadlineAfter(timeout), &mpi_error);
  if (outcome == Outcome::kDone) {
    MPI_Comm_set_errhandler(exchange->new_comm, MPI_ERRORS_RETURN);
    return exchange->new_comm;
  }
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::vector<ExchangePtr> pending;
  pending.push_back(std::move(exchange));
  KeepForever(std::move(pending));
  if (outcome == Outcome::kFailed) {
    return AbortedError("MPI coordinator: duplicating the communicator failed on rank " +
                        std::to_string(rank) + ": MPI: " + MpiErrorText(mpi_error));
  }
  return DeadlineExceededError("MPI coordinator: duplicating the communicator timed out after " +
                               std::to_string(timeout.count()) + " ms on rank " +
                               std::to_string(rank) +
                               " (did every process call MakeMpiCoordinator?)");
}

}  // namespace

Result<std::shared_ptr<Coordinator>> MakeMpiCoordinator(MPI_Comm comm,
                                                        std::chrono::milliseconds timeout) {
  STOWAGE_RETURN_IF_ERROR(CheckMpiReady());
  STOWAGE_RETURN_IF_ERROR(CheckCommunicator(comm));
  STOWAGE_ASSIGN_OR_RETURN(MPI_Comm own, Duplicate(comm, timeout));
  int index = 0;
  int count = 0;
  MPI_Comm_rank(own, &index);
  MPI_Comm_size(own, &count);
  return std::shared_ptr<Coordinator>(std::make_shared<MpiCoordinator>(own, index, count));
}

}  // namespace stowage
