#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/tree_files.h"
#include "npy/npy.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"
#include "stowage/inspect.h"
#include "stowage/pytree_checkpoint_handler.h"

namespace stowage::cli {
namespace {

// The leaf to export: `key`, or the only leaf of the checkpoint.
Result<const LeafInfo*> ChooseLeaf(const CheckpointInfo& info, const std::string& key) {
  if (!key.empty()) {
    for (const auto& leaf : info.leaves) {
      if (leaf.name == key) return &leaf;
    }
    return NotFoundError(info.path.string() + " has no leaf \"" + key + "\"");
  }
  if (info.leaves.size() == 1) return &info.leaves[0];
  std::string names;
  for (const auto& leaf : info.leaves) names += (names.empty() ? "" : ", ") + leaf.name;
  return InvalidArgumentError(info.path.string() + " has " + std::to_string(info.leaves.size()) +
                              " leaves; name one to export (" + names + ")");
}

// Writes `array` next to `output` and renames it into place, so a failed
// export never leaves a partial file under the requested name.
Status WriteNpyAtomically(const std::string& output, const ArrayView& array) {
  std::string temporary = output + ".stowage-partial";
  Status written = npy::WriteNpyFile(temporary, array);
  if (written.has_value() && std::rename(temporary.c_str(), output.c_str()) != 0) {
    written = IoError("rename " + temporary + " to " + output + " failed");
  }
  if (!written.has_value()) std::remove(temporary.c_str());
  return written;
}

// The whole tree into an .npz archive (members named by key paths with '/').
// DIR may also be a single-file msgpack checkpoint (Flax, Orbax aggregate).
Status ExportTree(const ExportOptions& options) {
  PyTreeCheckpointHandlerOptions handler_options;
  handler_options.num_threads = options.threads;
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(handler_options)};
  std::error_code ec;
  bool single_file = std::filesystem::is_regular_file(options.directory, ec);
  STOWAGE_ASSIGN_OR_RETURN(Tree tree, single_file ? ReadMsgpackCheckpointFile(options.directory)
                                                  : checkpointer.Restore(options.directory, {}));
  std::string temporary = options.output + ".stowage-partial";
  std::size_t skipped = 0;
  Status written = WriteTreeToNpz(tree, temporary, &skipped);
  if (written.has_value() && std::rename(temporary.c_str(), options.output.c_str()) != 0) {
    written = IoError("rename " + temporary + " to " + options.output + " failed");
  }
  if (!written.has_value()) {
    std::remove(temporary.c_str());
    return written;
  }
  if (skipped > 0 && !options.quiet) {
    std::fprintf(stderr, "stowage: %zu string, None or empty node(s) have no .npz form; skipped\n",
                 skipped);
  }
  return OkStatus();
}

}  // namespace

Status RunExport(const ExportOptions& options) {
  if (options.key.empty() && options.output.ends_with(".npz")) return ExportTree(options);
  STOWAGE_ASSIGN_OR_RETURN(CheckpointInfo info, InspectCheckpoint(options.directory));
  STOWAGE_ASSIGN_OR_RETURN(const LeafInfo* leaf, ChooseLeaf(info, options.key));
  std::uint64_t total = 0;
  if (leaf->shape && leaf->dtype) total = NumBytes(*leaf->shape, *leaf->dtype).value_or(0);
  ProgressReporter progress("export", total, options.quiet);
  ArrayCheckpointHandlerOptions handler_options;
  handler_options.checkpoint_name = leaf->name;
  handler_options.num_threads = options.threads;
  handler_options.progress = progress.Callback();
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(handler_options)};
  ArrayRestoreArgs args;
  args.restore_args.restore_type = RestoreType::kArray;
  args.restore_args.allow_missing_chunks = options.allow_missing_chunks;
  if (!options.dtype.empty()) {
    STOWAGE_ASSIGN_OR_RETURN(args.restore_args.dtype, ParseDTypeName(options.dtype));
  }
  STOWAGE_ASSIGN_OR_RETURN(Leaf restored, checkpointer.Restore(options.directory, args));
  STOWAGE_RETURN_IF_ERROR(WriteNpyAtomically(options.output, std::get<Array>(restored).view()));
  progress.Finish();
  return OkStatus();
}

}  // namespace stowage::cli
