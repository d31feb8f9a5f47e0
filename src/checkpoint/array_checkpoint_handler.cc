#include "stowage/array_checkpoint_handler.h"

#include "base/thread_pool.h"
#include "checkpoint/base_pytree_handler.h"
#include "checkpoint/layout.h"

namespace stowage {
namespace fs = std::filesystem;

struct ArrayCheckpointHandler::Impl {
  ArrayCheckpointHandlerOptions options;
  std::unique_ptr<ThreadPool> own_pool;  // when options.num_threads > 0
  std::unique_ptr<checkpoint::BasePyTreeHandler> pytree;

  explicit Impl(ArrayCheckpointHandlerOptions opts) : options(std::move(opts)) {
    if (options.checkpoint_name.empty()) options.checkpoint_name = "checkpoint";
    if (options.num_threads > 0) own_pool = std::make_unique<ThreadPool>(options.num_threads);
    checkpoint::BasePyTreeOptions tree_options;
    tree_options.use_ocdbt = options.use_ocdbt;
    tree_options.use_zarr3 = options.use_zarr3;
    tree_options.use_compression = options.compression == Compression::kZstd;
    tree_options.file.fsync = options.fsync;
    tree_options.io.pool = own_pool.get();
    tree_options.io.progress = options.progress;
    tree_options.io.limits.max_bytes = options.max_restore_bytes;
    pytree = std::make_unique<checkpoint::BasePyTreeHandler>(std::move(tree_options));
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

Result<std::vector<Future<void>>> ArrayCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                    ArraySaveArgs args) {
  // Orbax accepts only arrays and numbers here (TypeError otherwise).
  if (std::holds_alternative<std::string>(args.item)) {
    return UnsupportedError("ArrayCheckpointHandler saves arrays and scalars, not strings");
  }
  std::vector<checkpoint::LeafToSave> leaves;
  leaves.push_back({{{impl_->options.checkpoint_name, tree::KeyType::kDict}},
                    std::move(args.item),
                    std::move(args.save_args)});
  return impl_->pytree->AsyncSave(directory, std::move(leaves), nullptr);
}

Status ArrayCheckpointHandler::Save(const fs::path& directory, ArraySaveArgs args) {
  STOWAGE_ASSIGN_OR_RETURN(auto futures, AsyncSave(directory, std::move(args)));
  return WaitAll(futures);
}

Result<Leaf> ArrayCheckpointHandler::Restore(const fs::path& directory,
                                             const ArrayRestoreArgs& args) const {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return NotFoundError("requested directory for restore does not exist at " + directory.string());
  }
  const std::string& name = impl_->options.checkpoint_name;
  if (fs::exists(directory / checkpoint::kTreeMetadataFile, ec)) {
    STOWAGE_ASSIGN_OR_RETURN(auto metadata, impl_->pytree->ReadTreeMetadata(directory));
    return impl_->pytree->RestoreLeaf(directory, metadata, name, args.restore_args);
  }
  // Legacy layouts (before 2025-08) have no `_METADATA`; before 2024 the
  // value could also sit in a msgpack file named after the leaf.
  if (fs::is_regular_file(directory / name, ec)) {
    return UnsupportedError((directory / name).string() +
                            " is a legacy msgpack aggregate file, not supported yet");
  }
  return impl_->pytree->RestoreLegacyLeaf(directory, name, args.restore_args);
}

Status ArrayCheckpointHandler::Finalize(const fs::path&) { return OkStatus(); }

void ArrayCheckpointHandler::Close() {
  // Orbax's close releases an unused msgpack handler; here the worker pool is
  // kept until destruction so a save still in flight can finish.
}

}  // namespace stowage
