// stowage layer: checkpoint
//
// ArrayCheckpointHandler saves one array or scalar under a name (default
// "checkpoint") in the layout Orbax's ArrayCheckpointHandler writes: the
// one-leaf tree {name: item} saved by a PyTreeCheckpointHandler, by default
// as a zarr v2 array folder `<dir>/<name>/` plus `<dir>/_METADATA` (orbax
// `_src/handlers/array_checkpoint_handler.py`). It restores those, arrays
// Orbax saved from jax.Array, and the legacy layouts without `_METADATA`
// (a zarr folder, or before 2024 a msgpack file `<dir>/<name>`).
//
// The handler writes into the directory it is given; use a Checkpointer or
// AsyncCheckpointer (checkpointer.h) for an atomic save.
// Thread safety: one save or restore at a time per handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/coordinator.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "stowage/tree.h"
#include "stowage/type_handler.h"

namespace stowage {

// How chunks are compressed on save.
enum class Compression {
  kZstd,  // {"id": "zstd", "level": 1}, Orbax's default
  kNone,  // raw chunks
};

struct ArrayCheckpointHandlerOptions {
  // The leaf's name: the array folder and the `_METADATA` key.
  std::string checkpoint_name = "checkpoint";
  Compression compression = Compression::kZstd;
  // zstd frames carry a content checksum, so a flipped byte in a compressed
  // chunk is detected (format.md §6). zarr3 records it in zarr.json
  // ("checksum": true); zarr v2 frames always carry one, as the `.zarray`
  // form TensorStore accepts cannot say so. false: zarr3 chunks as
  // TensorStore writes them by default (Orbax's bytes exactly).
  bool zstd_checksum = true;
  // Where the array goes. Orbax's ArrayCheckpointHandler always writes plain
  // zarr v2 folders; these opt in to the layouts its PyTree handler writes,
  // which Orbax's restore reads too: arrays inside an OCDBT database
  // (`manifest.ocdbt`, `ocdbt.process_0/`), and zarr3 with the sharding codec.
  bool use_ocdbt = false;
  bool use_zarr3 = false;
  // What an Array or ArrayView item is saved as (Orbax saves a jax.Array
  // item with `_sharding` and `array_metadatas/`).
  ArrayValueType array_value_type = ArrayValueType::kNumpy;
  // Worker threads encoding, compressing and writing chunks; 0 = one per core.
  std::size_t num_threads = 0;
  kvstore::FsyncPolicy fsync = kvstore::FsyncPolicy::kEveryWrite;
  // Called from worker threads with each chunk's array bytes once processed.
  std::function<void(std::uint64_t bytes)> progress;
  // Largest array or chunk a restore may allocate; 0 = physical memory.
  std::uint64_t max_restore_bytes = 0;
  // Arrays saved without SaveArgs::chunk_byte_size that Orbax would store as
  // one chunk of more than this many bytes are cut into C-order slabs of at
  // most this size (zarr v2), so that their chunks are compressed and written
  // in parallel, and restored without a copy when uncompressed. 0: Orbax's
  // chunking (one chunk per array). Orbax reads either.
  std::int64_t max_default_chunk_bytes = std::int64_t{16} << 20;
  // At most this many bytes of chunk buffers (compressed and decoded) are in
  // flight at once in a save or restore, beyond the arrays themselves; fewer
  // workers run when chunks are large. 0: no limit beyond the worker count.
  std::uint64_t max_in_flight_bytes = std::uint64_t{64} << 20;
  // The processes saving a ShardedArray item together (null: this process
  // alone), and the longest a collective step may wait.
  std::shared_ptr<Coordinator> coordinator;
  std::chrono::milliseconds collective_timeout = std::chrono::minutes(20);
};

// Orbax `ArraySaveArgs(item, save_args)`.
struct ArraySaveArgs {
  Leaf item;
  SaveArgs save_args;
};

// Orbax `ArrayRestoreArgs(restore_args)`.
struct ArrayRestoreArgs {
  RestoreArgs restore_args;
};

class PyTreeCheckpointHandler;

class ArrayCheckpointHandler {
 public:
  using SaveArgsType = ArraySaveArgs;
  using RestoreArgsType = ArrayRestoreArgs;
  using Restored = Leaf;

  // Orbax's typestr for this handler, written to `_CHECKPOINT_METADATA`.
  static constexpr std::string_view kTypestr =
      "orbax.checkpoint._src.handlers.array_checkpoint_handler.ArrayCheckpointHandler";

  explicit ArrayCheckpointHandler(ArrayCheckpointHandlerOptions options = {});
  ~ArrayCheckpointHandler();
  ArrayCheckpointHandler(ArrayCheckpointHandler&&) noexcept;
  ArrayCheckpointHandler& operator=(ArrayCheckpointHandler&&) noexcept;

  // Snapshots `args.item` (no copy when it is an owned Array, which is moved
  // in; a copy of an ArrayView, so the caller may reuse its buffer as soon
  // as this returns) and starts writing it into `directory`. The returned
  // commit futures finish when the data and then `_METADATA` are written.
  // Errors, before anything is written: kUnsupported (a string item),
  // kInvalidArgument (bad SaveArgs).
  Result<std::vector<Future<void>>> AsyncSave(const std::filesystem::path& directory,
                                              ArraySaveArgs args);

  // AsyncSave, then waits for every commit future.
  Status Save(const std::filesystem::path& directory, ArraySaveArgs args);

  // Restores the array or scalar saved in `directory`: an Array, or a Scalar
  // for value_type "scalar", unless args.restore_args.restore_type says
  // otherwise; cast to args.restore_args.dtype when set.
  // Errors: kNotFound (directory, array folder, `.zarray` or a chunk, named;
  // the name is an empty node), kDataLoss (corrupt metadata or chunks,
  // naming the file), kUnsupported (unknown dtype, codec or value type),
  // kInvalidArgument (restore_type kScalar for a non-0-d array),
  // kResourceExhausted (beyond options.max_restore_bytes).
  Result<Leaf> Restore(const std::filesystem::path& directory,
                       const ArrayRestoreArgs& args = {}) const;

  // Completes a save after every commit future finished (nothing to do for
  // plain zarr v2; kept for the Orbax protocol).
  Status Finalize(const std::filesystem::path& directory);

  // Kept for the Orbax protocol: the destructor releases resources, and a
  // save in flight keeps alive what it needs until its futures are ready.
  void Close();

  const ArrayCheckpointHandlerOptions& options() const;

  // The processes saving together (a single-process one when none was set),
  // and how long a collective step may wait.
  Coordinator& coordinator() const;
  std::chrono::milliseconds collective_timeout() const { return options().collective_timeout; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stowage
