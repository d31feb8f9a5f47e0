#include "stowage/pytree_checkpoint_handler.h"

#include "base/thread_pool.h"
#include "checkpoint/base_pytree_handler.h"
#include "checkpoint/layout.h"
#include "tree/pytree.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

// True when `name` is one of `keys` or lies under one of them.
bool Selected(const std::string& name, const std::vector<std::string>& keys) {
  if (keys.empty()) return true;
  for (const auto& key : keys) {
    if (name == key ||
        (name.size() > key.size() && name.starts_with(key) && name[key.size()] == '.')) {
      return true;
    }
  }
  return false;
}

Status CheckKeysExist(const fs::path& directory, const tree::TreeMetadata& metadata,
                      const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    bool found = false;
    for (const auto& entry : metadata.entries)
      found |= Selected(tree::ParamName(entry.keypath), {key});
    if (!found) {
      return NotFoundError((directory / checkpoint::kTreeMetadataFile).string() + " has no key \"" +
                           key + "\"");
    }
  }
  return OkStatus();
}

}  // namespace

struct PyTreeCheckpointHandler::Impl {
  PyTreeCheckpointHandlerOptions options;
  std::unique_ptr<ThreadPool> own_pool;  // when options.num_threads > 0
  std::unique_ptr<checkpoint::BasePyTreeHandler> base;

  explicit Impl(PyTreeCheckpointHandlerOptions opts) : options(std::move(opts)) {
    if (options.num_threads > 0) own_pool = std::make_unique<ThreadPool>(options.num_threads);
    checkpoint::BasePyTreeOptions base_options;
    base_options.use_ocdbt = options.use_ocdbt;
    base_options.use_zarr3 = options.use_zarr3;
    base_options.use_compression = options.compression == Compression::kZstd;
    base_options.file.fsync = options.fsync;
    base_options.io.pool = own_pool.get();
    base_options.io.progress = options.progress;
    base_options.io.limits.max_bytes = options.max_restore_bytes;
    base = std::make_unique<checkpoint::BasePyTreeHandler>(std::move(base_options));
  }
};

PyTreeCheckpointHandler::PyTreeCheckpointHandler(PyTreeCheckpointHandlerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
PyTreeCheckpointHandler::~PyTreeCheckpointHandler() = default;
PyTreeCheckpointHandler::PyTreeCheckpointHandler(PyTreeCheckpointHandler&&) noexcept = default;
PyTreeCheckpointHandler& PyTreeCheckpointHandler::operator=(PyTreeCheckpointHandler&&) noexcept =
    default;

const PyTreeCheckpointHandlerOptions& PyTreeCheckpointHandler::options() const {
  return impl_->options;
}

Result<std::vector<Future<void>>> PyTreeCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                     PyTreeSaveArgs args) {
  std::vector<checkpoint::LeafToSave> leaves;
  for (auto& [path, node] : tree::FlattenMutable(args.item)) {
    checkpoint::LeafToSave leaf{path, std::string(), {}, {}};
    if (node->is_leaf()) {
      leaf.value = std::move(node->leaf());
      if (auto it = args.save_args.find(tree::ParamName(path)); it != args.save_args.end()) {
        leaf.args = it->second;
      }
    } else {
      leaf.empty_node_typestr = tree::EmptyNodeTypestr(*node);
    }
    leaves.push_back(std::move(leaf));
  }
  return impl_->base->AsyncSave(directory, std::move(leaves), std::move(args.custom_metadata));
}

Status PyTreeCheckpointHandler::Save(const fs::path& directory, PyTreeSaveArgs args) {
  STOWAGE_ASSIGN_OR_RETURN(auto futures, AsyncSave(directory, std::move(args)));
  return WaitAll(futures);
}

Result<Tree> PyTreeCheckpointHandler::Restore(const fs::path& directory,
                                              const PyTreeRestoreArgs& args) const {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return NotFoundError("requested directory for restore does not exist at " + directory.string());
  }
  STOWAGE_ASSIGN_OR_RETURN(tree::TreeMetadata metadata, impl_->base->ReadTreeMetadata(directory));
  STOWAGE_RETURN_IF_ERROR(CheckKeysExist(directory, metadata, args.keys));
  STOWAGE_ASSIGN_OR_RETURN(auto store, checkpoint::OpenArrayStore(directory, &metadata));
  std::vector<std::pair<tree::KeyPath, Tree>> nodes;
  for (const auto& entry : metadata.entries) {
    std::string name = tree::ParamName(entry.keypath);
    if (!Selected(name, args.keys)) continue;
    auto it = args.restore_args.find(name);
    RestoreArgs leaf_args = it == args.restore_args.end() ? RestoreArgs{} : it->second;
    STOWAGE_ASSIGN_OR_RETURN(Tree node,
                             impl_->base->RestoreEntry(store, metadata, entry, leaf_args));
    nodes.emplace_back(entry.keypath, std::move(node));
  }
  auto tree = tree::Unflatten(std::move(nodes));
  if (!tree.has_value()) {
    return tree.error().WithContext((directory / checkpoint::kTreeMetadataFile).string());
  }
  return std::move(*tree);
}

Status PyTreeCheckpointHandler::Finalize(const fs::path&) { return OkStatus(); }

void PyTreeCheckpointHandler::Close() {}

}  // namespace stowage
