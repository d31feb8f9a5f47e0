// Many processes, one checkpoint: every MPI rank saves only its shard of a
// float64 array whose element at flat index i equals i, and a later run
// restores it onto any number of ranks and any split, reading only the
// chunks it needs, and checks every element.
//
//   mpirun -np P mpi_checkpoint save DIR --shape 1000,300 --split 0
//   mpirun -np P mpi_checkpoint restore DIR --shape 1000,300 --split 1
//   stowage export DIR -o x.npy          (one process, no MPI)
//
// --split lists the array axes split over a process grid (0,1: a 2-D grid;
// none: every rank holds the whole array, and only rank 0 writes it).
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "stowage/mpi_coordinator.h"
#include "stowage/stowage.h"

namespace {

struct Options {
  std::string command, directory, shape = "1000,300", split = "0";
  bool ocdbt = false, zarr3 = false, no_fsync = false, async = false;
  int fail_rank = -1, kill_rank = -1, kill_after_ms = 0, timeout_ms = 60000;
};

std::vector<std::int64_t> ParseList(const std::string& text) {
  std::vector<std::int64_t> values;
  if (text == "none") return values;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    values.push_back(std::stoll(text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

// The split axes over a balanced process grid, one mesh axis per split axis.
stowage::Result<stowage::Sharding> MakeSharding(const stowage::Shape& shape,
                                                const std::string& split, int processes) {
  auto axes = ParseList(split);
  if (axes.empty()) return stowage::Sharding::Replicated(shape, processes);
  stowage::ProcessMesh mesh = stowage::ProcessMesh::Balanced(processes, axes.size());
  std::vector<std::optional<int>> spec(shape.size());
  for (std::size_t k = 0; k < axes.size(); ++k) {
    if (axes[k] < 0 || axes[k] >= static_cast<std::int64_t>(shape.size())) {
      return stowage::InvalidArgumentError("--split axis " + std::to_string(axes[k]) +
                                           " is not an axis of the array");
    }
    spec[axes[k]] = static_cast<int>(k);
  }
  return stowage::Sharding::Named(shape, mesh, spec);
}

// Element at global flat index i is i: fills (or checks) one box.
template <typename Visit>
void ForEachElement(const stowage::Shape& global, const stowage::Box& box, Visit visit) {
  std::size_t rank = global.size();
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t n = 0; n < box.num_elements(); ++n) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < rank; ++d) flat = flat * global[d] + box.origin[d] + index[d];
    visit(n, static_cast<double>(flat));
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < box.shape[d]) break;
      index[d] = 0;
    }
  }
}

stowage::ArrayCheckpointHandler MakeHandler(const Options& o,
                                            std::shared_ptr<stowage::Coordinator> coordinator) {
  stowage::ArrayCheckpointHandlerOptions options;
  options.use_ocdbt = o.ocdbt;
  options.use_zarr3 = o.zarr3;
  options.compression = stowage::Compression::kNone;
  options.coordinator = std::move(coordinator);
  options.collective_timeout = std::chrono::milliseconds(o.timeout_ms);
  if (o.no_fsync) options.fsync = stowage::kvstore::FsyncPolicy::kNone;
  return stowage::ArrayCheckpointHandler(options);
}

// AsyncSave returns once the shard is handed over; the rank computes (here:
// an MPI_Allreduce, which needs no stowage thread) while every rank's writes
// and the collective commit run in the background.
stowage::Result<double> SaveAsync(const Options& o, stowage::ShardedArray sharded,
                                  std::shared_ptr<stowage::Coordinator> coordinator,
                                  const stowage::CheckpointSaveOptions& save_options) {
  stowage::AsyncCheckpointer<stowage::ArrayCheckpointHandler> checkpointer{
      MakeHandler(o, coordinator)};
  auto start = std::chrono::steady_clock::now();
  STOWAGE_ASSIGN_OR_RETURN(
      auto committed, checkpointer.AsyncSave(o.directory, {std::move(sharded), {}}, save_options));
  double blocked = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double step = 1, sum = 0;
  MPI_Allreduce(&step, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);  // the next step's work
  STOWAGE_RETURN_IF_ERROR(committed.Wait());
  if (coordinator->process_index() == 0) {
    std::printf("async save blocked the caller %.4f s; %g ranks computed meanwhile\n", blocked,
                sum);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Saves this rank's shard; returns the seconds the save took (the values
// are made before the clock starts).
stowage::Result<double> Save(const Options& o, const stowage::Sharding& sharding,
                             std::shared_ptr<stowage::Coordinator> coordinator) {
  int rank = coordinator->process_index();
  const stowage::Box& box = sharding.BoxOf(rank);
  STOWAGE_ASSIGN_OR_RETURN(auto local, stowage::Array::Zeros(stowage::DType::kFloat64, box.shape));
  auto values = local.mutable_values<double>();
  ForEachElement(sharding.global_shape(), box, [&](std::int64_t n, double v) { values[n] = v; });
  STOWAGE_ASSIGN_OR_RETURN(auto sharded,
                           stowage::ShardedArray::FromLocal(sharding, rank, std::move(local)));
  if (rank == o.fail_rank) sharded.shards[0].box.shape[0] += 1;  // an injected failure
  if (rank == o.kill_rank) {
    std::thread([ms = o.kill_after_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      std::raise(SIGKILL);
    }).detach();
  }
  stowage::CheckpointSaveOptions save_options{.force = true};
  if (o.no_fsync) save_options.fsync = stowage::kvstore::FsyncPolicy::kNone;
  if (o.async) return SaveAsync(o, std::move(sharded), std::move(coordinator), save_options);
  stowage::Checkpointer<stowage::ArrayCheckpointHandler> checkpointer{MakeHandler(o, coordinator)};
  auto start = std::chrono::steady_clock::now();
  STOWAGE_RETURN_IF_ERROR(checkpointer.Save(o.directory, {std::move(sharded), {}}, save_options));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Restores this rank's box and counts the elements that differ; `seconds`
// gets the time of the restore alone.
stowage::Result<std::int64_t> RestoreAndCount(const Options& o, const stowage::Sharding& sharding,
                                              std::shared_ptr<stowage::Coordinator> coordinator,
                                              double& seconds) {
  int rank = coordinator->process_index();
  stowage::Checkpointer<stowage::ArrayCheckpointHandler> checkpointer{MakeHandler(o, coordinator)};
  stowage::ArrayRestoreArgs args;
  args.restore_args.sharding = sharding;
  MPI_Barrier(MPI_COMM_WORLD);  // start together; report the slowest rank
  auto start = std::chrono::steady_clock::now();
  auto leaf = checkpointer.Restore(o.directory, args);
  double mine = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MPI_Reduce(&mine, &seconds, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (!leaf.has_value()) return leaf.error();
  const auto& shard = std::get<stowage::ShardedArray>(*leaf).shards.at(0);
  if (shard.box != sharding.BoxOf(rank)) return stowage::InternalError("restored the wrong box");
  auto values = shard.data.values<double>();
  std::int64_t mismatches = 0;
  ForEachElement(sharding.global_shape(), shard.box,
                 [&](std::int64_t n, double v) { mismatches += values[n] != v; });
  return mismatches;
}

int Run(const Options& o) {
  auto coordinator = stowage::MakeMpiCoordinator(MPI_COMM_WORLD).value();
  int rank = coordinator->process_index(), size = coordinator->process_count();
  auto sharding = MakeSharding(ParseList(o.shape), o.split, size);
  if (!sharding.has_value()) {
    std::fprintf(stderr, "mpi_checkpoint: %s\n", sharding.error().ToString().c_str());
    return 2;
  }
  stowage::Status status = stowage::OkStatus();
  std::int64_t mismatches = 0;
  double seconds = 0;
  if (o.command == "save") {
    auto saved = Save(o, *sharding, coordinator);
    status = saved.has_value() ? stowage::OkStatus() : stowage::Status(saved.error());
    if (saved.has_value()) seconds = *saved;
  } else {
    auto counted = RestoreAndCount(o, *sharding, coordinator, seconds);
    status = counted.has_value() ? stowage::OkStatus() : stowage::Status(counted.error());
    if (counted.has_value()) mismatches = *counted;
  }
  if (!status.has_value()) {
    std::fprintf(stderr, "rank %d: %s failed: %s\n", rank, o.command.c_str(),
                 status.error().ToString().c_str());
    return static_cast<int>(status.error().code());
  }
  if (mismatches != 0) {
    std::fprintf(stderr, "rank %d: %lld elements differ\n", rank,
                 static_cast<long long>(mismatches));
    return 1;
  }
  double bytes = 8.0 * static_cast<double>(stowage::NumElements(sharding->global_shape()).value());
  if (rank == 0) {
    std::printf("%s of %s over %d rank(s), split %s: ok in %.3f s (%.2f GiB/s of the array)\n",
                o.command.c_str(), stowage::ShapeToString(sharding->global_shape()).c_str(), size,
                o.split.c_str(), seconds, bytes / seconds / (1 << 30));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Saves and restores one sharded array across MPI ranks"};
  app.add_option("command", o.command, "save or restore")
      ->required()
      ->check(CLI::IsMember({"save", "restore"}));
  app.add_option("directory", o.directory, "checkpoint directory")->required();
  app.add_option("--shape", o.shape, "global shape, e.g. 1000,300");
  app.add_option("--split", o.split, "axes split over the ranks (0 | 1 | 0,1 | none)");
  app.add_flag("--ocdbt", o.ocdbt, "store the array inside OCDBT (ocdbt.process_<rank>/)");
  app.add_flag("--zarr3", o.zarr3, "store the array as zarr3");
  app.add_flag("--no-fsync", o.no_fsync, "skip fsync");
  app.add_flag("--async", o.async, "save with an AsyncCheckpointer and compute meanwhile");
  app.add_option("--timeout-ms", o.timeout_ms, "longest wait of a collective step");
  app.add_option("--fail-rank", o.fail_rank, "this rank's save fails (a test of the protocol)");
  app.add_option("--kill-rank", o.kill_rank, "this rank is SIGKILLed during the save");
  app.add_option("--kill-after-ms", o.kill_after_ms, "when --kill-rank dies");
  CLI11_PARSE(app, argc, argv);

  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int code = Run(o);
  MPI_Finalize();
  return code;
}
