// stowage layer: checkpoint
//
// PyTreeCheckpointHandler saves and restores a whole Tree in the layout of
// Orbax's PyTreeCheckpointHandler and StandardCheckpointHandler (orbax
// `_src/handlers/pytree_checkpoint_handler.py`): each array or scalar leaf
// under its param name ("params.w") inside an OCDBT database by default (or
// as zarr v2/zarr3 folders), empty nodes ({}, [], None) recorded in
// `_METADATA` only. It restores the whole tree or a subset of it, including
// legacy checkpoints whose leaves sit in the msgpack aggregate file
// `checkpoint` (with or without `_METADATA`).
//
// The handler writes into the directory it is given; use a Checkpointer or
// AsyncCheckpointer (checkpointer.h) for an atomic save.
// Thread safety: one save or restore at a time per handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/array_checkpoint_handler.h"
#include "stowage/coordinator.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "stowage/tree.h"
#include "stowage/type_handler.h"

namespace stowage {

namespace checkpoint {
class AggregateFile;
}
class ArrayCheckpointHandler;

struct PyTreeCheckpointHandlerOptions {
  // Orbax's defaults: arrays inside OCDBT, as zarr v2.
  bool use_ocdbt = true;
  bool use_zarr3 = false;
  Compression compression = Compression::kZstd;
  // zstd frames carry a content checksum, so a flipped byte in a compressed
  // chunk is detected (format.md §6). zarr3 records it in zarr.json
  // ("checksum": true); zarr v2 frames always carry one, as the `.zarray`
  // form TensorStore accepts cannot say so. false: zarr3 chunks as
  // TensorStore writes them by default (Orbax's bytes exactly).
  bool zstd_checksum = true;
  // What Array and ArrayView leaves are saved as; kJaxArray writes what
  // Orbax writes for single-device jax.Arrays (`_sharding`, `array_metadatas/`).
  ArrayValueType array_value_type = ArrayValueType::kNumpy;
  // Users' type handlers, consulted before the built-in ones on save and
  // by value_type on restore. Typestrs must be unique (kInvalidArgument on
  // the first save or restore otherwise).
  std::vector<std::shared_ptr<const CustomTypeHandler>> type_handlers;
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
  // The processes saving this checkpoint together (null: this process
  // alone). Each writes its own shards of ShardedArray leaves; process 0
  // writes everything else and finalizes. Every process must call the same
  // saves with trees of the same structure.
  std::shared_ptr<Coordinator> coordinator;
  // The longest any collective step of a save may wait for the other
  // processes (kDeadlineExceeded after it).
  std::chrono::milliseconds collective_timeout = std::chrono::minutes(20);
};

// Orbax `PyTreeSave` / `StandardSave`.
struct PyTreeSaveArgs {
  Tree item;
  // Options of particular leaves, by param name ("params.w"); the others
  // get SaveArgs{}.
  std::map<std::string, SaveArgs> save_args;
  // Stored as `_METADATA`'s custom_metadata.
  nlohmann::ordered_json custom_metadata;
};

// Orbax `PyTreeRestore` / `StandardRestore`.
struct PyTreeRestoreArgs {
  // Options of particular leaves, by param name; the others get RestoreArgs{}.
  std::map<std::string, RestoreArgs> restore_args;
  // Partial restore: only these param names and what lies under them
  // ("params" selects "params.w"); empty restores the whole tree.
  std::vector<std::string> keys;
};

class PyTreeCheckpointHandler {
 public:
  using SaveArgsType = PyTreeSaveArgs;
  using RestoreArgsType = PyTreeRestoreArgs;
  using Restored = Tree;

  // Orbax's typestr for this handler, written to `_CHECKPOINT_METADATA`.
  static constexpr std::string_view kTypestr =
      "orbax.checkpoint._src.handlers.pytree_checkpoint_handler.PyTreeCheckpointHandler";

  explicit PyTreeCheckpointHandler(PyTreeCheckpointHandlerOptions options = {});
  ~PyTreeCheckpointHandler();
  PyTreeCheckpointHandler(PyTreeCheckpointHandler&&) noexcept;
  PyTreeCheckpointHandler& operator=(PyTreeCheckpointHandler&&) noexcept;

  // Snapshots the tree's leaves (owned Arrays are moved in, views copied)
  // and starts writing them into `directory`. The commit futures finish when
  // the data, the OCDBT commit and merge, and then `_METADATA` are written.
  // Errors, before anything is written: kInvalidArgument (no leaves, param
  // names that collide or cannot be stored, bad SaveArgs), kUnsupported (a
  // leaf no type handler saves). Strings go to `_strings.json`, as Orbax's
  // StringHandler writes them.
  Result<std::vector<Future<void>>> AsyncSave(const std::filesystem::path& directory,
                                              PyTreeSaveArgs args);

  // AsyncSave, then waits for every commit future.
  Status Save(const std::filesystem::path& directory, PyTreeSaveArgs args);

  // Restores the tree `_METADATA` describes: maps for dict keys, sequences
  // for sequence keys, Arrays and Scalars at the leaves, {}, [] and None for
  // empty nodes. Errors: kNotFound (directory, `_METADATA`, a requested key,
  // an array or chunk, named), kDataLoss (corrupt metadata or data, naming
  // the file), kUnsupported (unknown value types),
  // kResourceExhausted (beyond options.max_restore_bytes).
  Result<Tree> Restore(const std::filesystem::path& directory,
                       const PyTreeRestoreArgs& args = {}) const;

  // Completes a save after every commit future finished (nothing left to
  // do; kept for the Orbax protocol).
  Status Finalize(const std::filesystem::path& directory);

  // Kept for the Orbax protocol; the destructor releases resources.
  void Close();

  const PyTreeCheckpointHandlerOptions& options() const;

  // The processes saving together (a single-process one when none was set),
  // and how long a collective step may wait.
  Coordinator& coordinator() const;
  std::chrono::milliseconds collective_timeout() const { return options().collective_timeout; }

 private:
  friend class ArrayCheckpointHandler;  // reads its legacy single-array layouts
  // The array stored as a zarr folder `name` with no `_METADATA`.
  Result<Leaf> RestoreLegacyLeaf(const std::filesystem::path& directory, const std::string& name,
                                 const RestoreArgs& args) const;
  Result<Tree> RestoreLegacyTree(const std::filesystem::path& directory,
                                 std::optional<checkpoint::AggregateFile>& aggregate,
                                 const PyTreeRestoreArgs& args) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a single-file msgpack checkpoint (flax.training.checkpoints before
// Orbax, or an Orbax aggregate `checkpoint` file) as a tree. PLACEHOLDER://
// leaves stay strings. Errors: kNotFound, kDataLoss naming the file,
// kResourceExhausted (beyond `max_bytes`; 0 = physical memory).
Result<Tree> ReadMsgpackCheckpointFile(const std::filesystem::path& file,
                                       std::uint64_t max_bytes = 0);

}  // namespace stowage
