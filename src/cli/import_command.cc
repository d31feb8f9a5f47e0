#include "cli/commands.h"
#include "cli/progress.h"
#include "npy/npy.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"

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

}  // namespace

Status RunImport(const ImportOptions& options) {
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
  handler_options.use_ocdbt = options.ocdbt;
  handler_options.use_zarr3 = options.zarr3;
  // Files are fsynced once, at commit, by the checkpointer.
  handler_options.fsync = kvstore::FsyncPolicy::kNone;
  handler_options.progress = progress.Callback();
  STOWAGE_ASSIGN_OR_RETURN(Leaf item, MakeItem(std::move(array), options.scalar, options.input));
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(handler_options)};
  CheckpointSaveOptions save_options;
  save_options.force = options.force;
  save_options.fsync =
      options.no_fsync ? kvstore::FsyncPolicy::kNone : kvstore::FsyncPolicy::kEveryWrite;
  STOWAGE_RETURN_IF_ERROR(
      checkpointer.Save(options.directory, {std::move(item), save_args}, save_options));
  progress.Finish();
  return OkStatus();
}

}  // namespace stowage::cli
