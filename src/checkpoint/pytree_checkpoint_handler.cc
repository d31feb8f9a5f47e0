#include "stowage/pytree_checkpoint_handler.h"

#include "base/run_on_threads.h"
#include "base/thread_pool.h"
#include "checkpoint/base_pytree_handler.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"
#include "checkpoint/legacy_aggregate.h"
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

// kNotFound naming the first of `keys` that selects none of `names`.
Status CheckKeysExist(const std::string& where, const std::vector<std::string>& names,
                      const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    bool found = false;
    for (const auto& name : names) found |= Selected(name, {key});
    if (!found) return NotFoundError(where + " has no key \"" + key + "\"");
  }
  return OkStatus();
}

RestoreArgs ArgsFor(const PyTreeRestoreArgs& args, const std::string& name) {
  auto it = args.restore_args.find(name);
  return it == args.restore_args.end() ? RestoreArgs{} : it->second;
}

// The restored tree; in a partial restore (`of_entries` entries in all),
// unselected sequence elements before selected ones are None.
Result<Tree> Unflattened(std::vector<std::pair<tree::KeyPath, Tree>> nodes,
                         const std::string& where, bool partial, std::size_t of_entries) {
  auto tree = tree::Unflatten(std::move(nodes), partial ? of_entries : 0);
  if (!tree.has_value()) return tree.error().WithContext(where);
  return std::move(*tree);
}

// A leaf `_METADATA` marks skip_deserialize: its value is in the aggregate file.
Result<Tree> AggregatedLeaf(std::optional<checkpoint::AggregateFile>& aggregate,
                            const fs::path& directory, const tree::TreeMetadataEntry& entry,
                            const RestoreArgs& args) {
  fs::path file = directory / std::string(checkpoint::kAggregateFile);
  std::string name = tree::ParamName(entry.keypath);
  tree::MsgpackLeaf* leaf = aggregate ? aggregate->Find(entry.keypath) : nullptr;
  if (leaf == nullptr) {
    return NotFoundError("leaf \"" + name + "\" is stored in the aggregate file " + file.string() +
                         ", which " + (aggregate ? "does not hold it" : "does not exist"));
  }
  return checkpoint::TreeNodeOf(std::move(leaf->value), args.dtype);
}

}  // namespace

struct PyTreeCheckpointHandler::Impl {
  PyTreeCheckpointHandlerOptions options;
  std::unique_ptr<ThreadPool> own_pool;  // when options.num_threads > 0
  std::unique_ptr<checkpoint::BasePyTreeHandler> base;
  Status registry_status;  // why options.type_handlers cannot be used, if so

  explicit Impl(PyTreeCheckpointHandlerOptions opts) : options(std::move(opts)) {
    if (options.num_threads > 0) own_pool = std::make_unique<ThreadPool>(options.num_threads);
    checkpoint::BasePyTreeOptions base_options;
    base_options.use_ocdbt = options.use_ocdbt;
    base_options.use_zarr3 = options.use_zarr3;
    base_options.use_compression = options.compression == Compression::kZstd;
    base_options.zstd_checksum = options.zstd_checksum;
    base_options.array_value_type = options.array_value_type;
    base_options.file.fsync = options.fsync;
    base_options.io.pool = own_pool.get();
    base_options.io.progress = options.progress;
    base_options.io.limits.max_bytes = options.max_restore_bytes;
    base_options.io.max_in_flight_bytes = options.max_in_flight_bytes;
    base_options.max_default_chunk_bytes = options.max_default_chunk_bytes;
    if (!options.coordinator) options.coordinator = SingleProcessCoordinator();
    base_options.coordinator = options.coordinator;
    base_options.collective_timeout = options.collective_timeout;
    auto registry = tree::TypeHandlerRegistry::WithBuiltins(options.type_handlers);
    if (registry.has_value()) {
      base_options.registry =
          std::make_shared<const tree::TypeHandlerRegistry>(std::move(*registry));
    } else {
      registry_status = registry.error();
    }
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

Coordinator& PyTreeCheckpointHandler::coordinator() const { return *impl_->options.coordinator; }

Result<std::vector<Future<void>>> PyTreeCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                     PyTreeSaveArgs args) {
  STOWAGE_RETURN_IF_ERROR(impl_->registry_status);
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
  STOWAGE_RETURN_IF_ERROR(impl_->registry_status);
  STOWAGE_ASSIGN_OR_RETURN(bool exists, checkpoint::FolderExists(directory));
  if (!exists) {
    return NotFoundError("requested directory for restore does not exist at " + directory.string());
  }
  STOWAGE_ASSIGN_OR_RETURN(
      auto aggregate, checkpoint::AggregateFile::Open(directory, impl_->options.max_restore_bytes));
  STOWAGE_ASSIGN_OR_RETURN(bool has_metadata,
                           checkpoint::FileExists(directory / checkpoint::kTreeMetadataFile));
  if (!has_metadata) {
    return RestoreLegacyTree(directory, aggregate, args);
  }
  STOWAGE_ASSIGN_OR_RETURN(tree::TreeMetadata metadata, impl_->base->ReadTreeMetadata(directory));
  std::string where = (directory / checkpoint::kTreeMetadataFile).string();
  std::vector<std::string> names;
  for (const auto& entry : metadata.entries) names.push_back(tree::ParamName(entry.keypath));
  STOWAGE_RETURN_IF_ERROR(CheckKeysExist(where, names, args.keys));
  STOWAGE_ASSIGN_OR_RETURN(auto store, checkpoint::OpenArrayStore(directory, &metadata));
  std::vector<std::size_t> selected;
  for (std::size_t i = 0; i < metadata.entries.size(); ++i) {
    if (Selected(names[i], args.keys)) selected.push_back(i);
  }
  auto aggregated = [&](std::size_t i) {
    const auto& value = metadata.entries[i].value;
    return value.skip_deserialize && !tree::IsEmptyNodeTypestr(value.value_type);
  };
  std::vector<std::optional<Result<Tree>>> restored(selected.size());
  // Leaves restored at once: as many as the pool has workers.
  std::size_t workers = impl_->own_pool ? impl_->own_pool->size() : ThreadPool::Default().size();
  // Threads of their own, so each leaf may hand its chunk reads to the pool.
  RunOnThreads(selected.size(), workers, [&](std::size_t k) {
    std::size_t i = selected[k];
    if (aggregated(i)) return;  // below, in this thread: it moves out of `aggregate`
    restored[k] = impl_->base->RestoreEntry(directory, store, metadata, metadata.entries[i],
                                            ArgsFor(args, names[i]));
  });
  std::vector<std::pair<tree::KeyPath, Tree>> nodes;
  for (std::size_t k = 0; k < selected.size(); ++k) {  // the first error in tree order
    const auto& entry = metadata.entries[selected[k]];
    if (aggregated(selected[k])) {
      restored[k] = AggregatedLeaf(aggregate, directory, entry, ArgsFor(args, names[selected[k]]));
    }
    if (!restored[k]->has_value()) return restored[k]->error();
    nodes.emplace_back(entry.keypath, std::move(**restored[k]));
  }
  return Unflattened(std::move(nodes), where, !args.keys.empty(), metadata.entries.size());
}

// Before `_METADATA` (Orbax until 2023): the aggregate file gives the tree;
// `PLACEHOLDER://` leaves are zarr arrays named by their param name.
Result<Tree> PyTreeCheckpointHandler::RestoreLegacyTree(
    const fs::path& directory, std::optional<checkpoint::AggregateFile>& aggregate,
    const PyTreeRestoreArgs& args) const {
  std::string where = (directory / std::string(checkpoint::kAggregateFile)).string();
  if (!aggregate) {
    return NotFoundError(directory.string() + " has neither _METADATA nor an aggregate file " +
                         where);
  }
  std::vector<std::string> names;
  for (const auto& leaf : aggregate->leaves()) names.push_back(tree::ParamName(leaf.path));
  STOWAGE_RETURN_IF_ERROR(CheckKeysExist(where, names, args.keys));
  std::vector<std::pair<tree::KeyPath, Tree>> nodes;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!Selected(names[i], args.keys)) continue;
    auto& leaf = aggregate->leaves()[i];
    RestoreArgs leaf_args = ArgsFor(args, names[i]);
    if (checkpoint::IsPlaceholder(leaf.value)) {
      auto array = impl_->base->RestoreLegacyLeaf(directory, names[i], leaf_args);
      if (!array.has_value()) return array.error().WithContext("leaf \"" + names[i] + "\"");
      nodes.emplace_back(leaf.path, Tree(std::move(*array)));
    } else {
      STOWAGE_ASSIGN_OR_RETURN(Tree node,
                               checkpoint::TreeNodeOf(std::move(leaf.value), leaf_args.dtype));
      nodes.emplace_back(leaf.path, std::move(node));
    }
  }
  return Unflattened(std::move(nodes), where, !args.keys.empty(), names.size());
}

Result<Leaf> PyTreeCheckpointHandler::RestoreLegacyLeaf(const fs::path& directory,
                                                        const std::string& name,
                                                        const RestoreArgs& args) const {
  STOWAGE_RETURN_IF_ERROR(impl_->registry_status);
  return impl_->base->RestoreLegacyLeaf(directory, name, args);
}

Status PyTreeCheckpointHandler::Finalize(const fs::path&) { return OkStatus(); }

void PyTreeCheckpointHandler::Close() {}

}  // namespace stowage
