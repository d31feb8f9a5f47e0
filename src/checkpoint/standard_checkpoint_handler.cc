#include "stowage/standard_checkpoint_handler.h"

#include "tree/pytree.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

// Orbax's _validate_save_state: a tree (not one leaf) of arrays and scalars.
Status ValidateStandardItem(const Tree& item) {
  if (item.is_none()) return InvalidArgumentError("must provide an item to save");
  if (item.is_leaf()) {
    return InvalidArgumentError(
        "StandardCheckpointHandler does not save a single array or scalar; use "
        "ArrayCheckpointHandler");
  }
  for (const auto& flat : tree::Flatten(item)) {
    if (flat.node->is_leaf() && std::holds_alternative<std::string>(flat.node->leaf())) {
      return InvalidArgumentError("unsupported type string for key \"" +
                                  tree::ParamName(flat.path) +
                                  "\" (StandardCheckpointHandler saves arrays and scalars)");
    }
  }
  return OkStatus();
}

}  // namespace

StandardCheckpointHandler::StandardCheckpointHandler(PyTreeCheckpointHandlerOptions options)
    : pytree_(std::move(options)) {}

Result<std::vector<Future<void>>> StandardCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                       PyTreeSaveArgs args) {
  STOWAGE_RETURN_IF_ERROR(ValidateStandardItem(args.item));
  return pytree_.AsyncSave(directory, std::move(args));
}

Status StandardCheckpointHandler::Save(const fs::path& directory, PyTreeSaveArgs args) {
  STOWAGE_ASSIGN_OR_RETURN(auto futures, AsyncSave(directory, std::move(args)));
  return WaitAll(futures);
}

Result<Tree> StandardCheckpointHandler::Restore(const fs::path& directory,
                                                const PyTreeRestoreArgs& args) const {
  return pytree_.Restore(directory, args);
}

Status StandardCheckpointHandler::Finalize(const fs::path& directory) {
  return pytree_.Finalize(directory);
}

void StandardCheckpointHandler::Close() { pytree_.Close(); }

}  // namespace stowage
