#include <algorithm>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/tree_files.h"
#include "npy/npy.h"
#include "npy/npz.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"
#include "stowage/pytree_checkpoint_handler.h"

namespace stowage::cli {

namespace {

Result<Compression> ParseCompression(const std::string& name) {
  if (name == "zstd") return Compression::kZstd;
  if (name == "none") return Compression::kNone;
  return InvalidArgumentError("unknown compression \"" + name + "\" (use zstd or none)");
}

Result<Leaf> MakeItem(Array array, bool scalar, const std::string& input) {
  if (!scalar) return Leaf(std::move(array));
  auto value = Scalar::FromArray(std::move(array));
  if (!value.has_value()) return value.error().WithContext("--scalar with " + input);
  return Leaf(std::move(*value));
}

// Files are fsynced once, at commit, by the checkpointer; their writeback
// starts as they are written, overlapping the disk with encoding.
kvstore::FsyncPolicy WriterFsyncOf(const ImportOptions& options) {
  return options.no_fsync ? kvstore::FsyncPolicy::kNone : kvstore::FsyncPolicy::kStartWriteback;
}

CheckpointSaveOptions SaveOptionsOf(const ImportOptions& options) {
  CheckpointSaveOptions save_options;
  save_options.force = options.force;
  save_options.fsync =
      options.no_fsync ? kvstore::FsyncPolicy::kNone : kvstore::FsyncPolicy::kEveryWrite;
  return save_options;
}

// An .npz archive becomes a tree saved as Orbax's PyTree handler saves it
// (inside OCDBT unless --no-ocdbt).
Status ImportTree(const ImportOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(Tree tree, ReadTreeFromNpz(options.input));
  PyTreeCheckpointHandlerOptions handler_options;
  STOWAGE_ASSIGN_OR_RETURN(handler_options.compression, ParseCompression(options.compression));
  handler_options.num_threads = options.threads;
  if (options.max_chunk_bytes) handler_options.max_default_chunk_bytes = *options.max_chunk_bytes;
  handler_options.use_ocdbt = !options.no_ocdbt;
  handler_options.use_zarr3 = options.zarr3;
  if (options.jax) handler_options.array_value_type = ArrayValueType::kJaxArray;
  handler_options.fsync = WriterFsyncOf(options);
  PyTreeSaveArgs args{std::move(tree), {}, nullptr};
  if (!options.dtype.empty() || options.chunk_bytes) {
    SaveArgs leaf_args;
    if (!options.dtype.empty()) {
      STOWAGE_ASSIGN_OR_RETURN(leaf_args.dtype, ParseDTypeName(options.dtype));
    }
    leaf_args.chunk_byte_size = options.chunk_bytes;
    STOWAGE_ASSIGN_OR_RETURN(auto arrays, npy::ReadNpzFile(options.input));
    for (const auto& member : arrays) {
      std::string name = member.name;
      std::replace(name.begin(), name.end(), '/', '.');
      args.save_args[name] = leaf_args;
    }
  }
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(handler_options)};
  return checkpointer.Save(options.directory, std::move(args), SaveOptionsOf(options));
}

}  // namespace

Status RunImport(const ImportOptions& options) {
  if (options.input.ends_with(".npz")) return ImportTree(options);
  STOWAGE_ASSIGN_OR_RETURN(Array array, npy::ReadNpyFile(options.input));
  SaveArgs save_args;
  if (!options.dtype.empty()) {
    STOWAGE_ASSIGN_OR_RETURN(save_args.dtype, ParseDTypeName(options.dtype));
  }
  save_args.chunk_byte_size = options.chunk_bytes;
  ProgressReporter progress("import", array.num_bytes(), options.quiet);
  ArrayCheckpointHandlerOptions handler_options;
  handler_options.checkpoint_name = options.name;
  STOWAGE_ASSIGN_OR_RETURN(handler_options.compression, ParseCompression(options.compression));
  handler_options.num_threads = options.threads;
  if (options.max_chunk_bytes) handler_options.max_default_chunk_bytes = *options.max_chunk_bytes;
  handler_options.use_ocdbt = options.ocdbt;
  handler_options.use_zarr3 = options.zarr3;
  if (options.jax) handler_options.array_value_type = ArrayValueType::kJaxArray;
  handler_options.fsync = WriterFsyncOf(options);
  handler_options.progress = progress.Callback();
  STOWAGE_ASSIGN_OR_RETURN(Leaf item, MakeItem(std::move(array), options.scalar, options.input));
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(handler_options)};
  STOWAGE_RETURN_IF_ERROR(
      checkpointer.Save(options.directory, {std::move(item), save_args}, SaveOptionsOf(options)));
  progress.Finish();
  return OkStatus();
}

}  // namespace stowage::cli
