#include "stowage/array_checkpoint_handler.h"

#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "tree/pytree.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

PyTreeCheckpointHandlerOptions TreeOptionsOf(const ArrayCheckpointHandlerOptions& options) {
  PyTreeCheckpointHandlerOptions tree;
  tree.use_ocdbt = options.use_ocdbt;
  tree.use_zarr3 = options.use_zarr3;
  tree.compression = options.compression;
  tree.zstd_checksum = options.zstd_checksum;
  tree.array_value_type = options.array_value_type;
  tree.num_threads = options.num_threads;
  tree.fsync = options.fsync;
  tree.progress = options.progress;
  tree.max_restore_bytes = options.max_restore_bytes;
  tree.max_in_flight_bytes = options.max_in_flight_bytes;
  tree.max_default_chunk_bytes = options.max_default_chunk_bytes;
  tree.coordinator = options.coordinator;
  tree.collective_timeout = options.collective_timeout;
  return tree;
}

// A restored value as RestoreArgs asks for it: cast, then Array or Scalar.
Result<Leaf> AsRequested(Leaf leaf, const RestoreArgs& args, const std::string& where) {
  Array array = std::holds_alternative<Scalar>(leaf) ? std::get<Scalar>(leaf).array().Copy()
                                                     : std::move(std::get<Array>(leaf));
  bool was_scalar = std::holds_alternative<Scalar>(leaf);
  if (args.dtype && *args.dtype != array.dtype()) {
    STOWAGE_ASSIGN_OR_RETURN(array, array.AsType(*args.dtype));
  }
  bool want_scalar = args.restore_type == RestoreType::kScalar ||
                     (args.restore_type == RestoreType::kAsSaved && was_scalar);
  if (!want_scalar) return Leaf(std::move(array));
  auto scalar = Scalar::FromArray(std::move(array));
  if (!scalar.has_value()) return InvalidArgumentError(where + ": the value is not a scalar");
  return Leaf(std::move(*scalar));
}

// Before 2024 (SaveArgs(aggregate=True)) the value was the msgpack file
// `<dir>/<name>` holding {"ELEMENT": value}.
Result<Leaf> RestoreAggregatedValue(const fs::path& file, const RestoreArgs& args,
                                    std::uint64_t max_bytes) {
  STOWAGE_ASSIGN_OR_RETURN(Tree tree, ReadMsgpackCheckpointFile(file, max_bytes));
  Tree* value = tree.is_map() ? tree.Find("ELEMENT") : &tree;
  if (value == nullptr || !value->is_leaf() || std::holds_alternative<std::string>(value->leaf())) {
    return DataLossError(file.string() + " holds no array or scalar under \"ELEMENT\"");
  }
  return AsRequested(std::move(value->leaf()), args, file.string());
}

// The leaf whose param name is `name` ("a.b" when the checkpoint is a tree).
Result<Leaf> TakeLeaf(Tree& tree, const std::string& name, const fs::path& directory) {
  for (auto& [path, node] : tree::FlattenMutable(tree)) {
    if (tree::ParamName(path) == name && node->is_leaf()) return std::move(node->leaf());
  }
  return NotFoundError("\"" + name + "\" in " + directory.string() +
                       " is an empty node, not an array");
}

}  // namespace

struct ArrayCheckpointHandler::Impl {
  ArrayCheckpointHandlerOptions options;
  PyTreeCheckpointHandler pytree;

  explicit Impl(ArrayCheckpointHandlerOptions opts)
      : options(std::move(opts)), pytree(TreeOptionsOf(options)) {
    if (options.checkpoint_name.empty()) options.checkpoint_name = "checkpoint";
  }
};

ArrayCheckpointHandler::ArrayCheckpointHandler(ArrayCheckpointHandlerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ArrayCheckpointHandler::~ArrayCheckpointHandler() = default;
ArrayCheckpointHandler::ArrayCheckpointHandler(ArrayCheckpointHandler&&) noexcept = default;
ArrayCheckpointHandler& ArrayCheckpointHandler::operator=(ArrayCheckpointHandler&&) noexcept =
    default;

const ArrayCheckpointHandlerOptions& ArrayCheckpointHandler::options() const {
  return impl_->options;
}

Coordinator& ArrayCheckpointHandler::coordinator() const { return impl_->pytree.coordinator(); }

Result<std::vector<Future<void>>> ArrayCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                    ArraySaveArgs args) {
  // Orbax accepts only arrays and numbers here (TypeError otherwise).
  if (std::holds_alternative<std::string>(args.item)) {
    return UnsupportedError("ArrayCheckpointHandler saves arrays and scalars, not strings");
  }
  const std::string& name = impl_->options.checkpoint_name;
  PyTreeSaveArgs tree_args;
  tree_args.item[name] = Tree(std::move(args.item));
  tree_args.save_args.emplace(name, std::move(args.save_args));
  return impl_->pytree.AsyncSave(directory, std::move(tree_args));
}

Status ArrayCheckpointHandler::Save(const fs::path& directory, ArraySaveArgs args) {
  STOWAGE_ASSIGN_OR_RETURN(auto futures, AsyncSave(directory, std::move(args)));
  return WaitAll(futures);
}

Result<Leaf> ArrayCheckpointHandler::Restore(const fs::path& directory,
                                             const ArrayRestoreArgs& args) const {
  STOWAGE_ASSIGN_OR_RETURN(bool exists, checkpoint::FolderExists(directory));
  if (!exists) {
    return NotFoundError("requested directory for restore does not exist at " + directory.string());
  }
  const std::string& name = impl_->options.checkpoint_name;
  STOWAGE_ASSIGN_OR_RETURN(bool has_metadata,
                           checkpoint::FileExists(directory / checkpoint::kTreeMetadataFile));
  if (has_metadata) {
    STOWAGE_ASSIGN_OR_RETURN(
        Tree tree, impl_->pytree.Restore(directory, {{{name, args.restore_args}}, {name}}));
    return TakeLeaf(tree, name, directory);
  }
  // Legacy layouts (before 2025-08) have no `_METADATA`.
  STOWAGE_ASSIGN_OR_RETURN(bool aggregated, checkpoint::FileExists(directory / name));
  if (aggregated) {
    return RestoreAggregatedValue(directory / name, args.restore_args,
                                  impl_->options.max_restore_bytes);
  }
  return impl_->pytree.RestoreLegacyLeaf(directory, name, args.restore_args);
}

Status ArrayCheckpointHandler::Finalize(const fs::path& directory) {
  return impl_->pytree.Finalize(directory);
}

void ArrayCheckpointHandler::Close() {
  // Orbax's close releases an unused msgpack handler; here the worker pool is
  // kept until destruction so a save still in flight can finish.
}

}  // namespace stowage
