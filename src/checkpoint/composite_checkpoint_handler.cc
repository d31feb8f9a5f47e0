#include "stowage/composite_checkpoint_handler.h"

#include <set>

#include "checkpoint/layout.h"
#include "stowage/directory.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

// An item is one folder directly inside the checkpoint, and not one of the
// checkpoint's own files.
Status ValidateItemName(const std::string& name) {
  bool plain = !name.empty() && name != "." && name != ".." &&
               name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
  if (!plain)
    return InvalidArgumentError("composite item name \"" + name + "\" is not a folder name");
  for (std::string_view reserved :
       {checkpoint::kCheckpointMetadataFile, checkpoint::kCommitSuccessFile,
        std::string_view("orbax.checkpoint")}) {
    if (name == reserved) {
      return InvalidArgumentError("composite item name \"" + name +
                                  "\" collides with a file of the checkpoint");
    }
  }
  if (checkpoint::IsTemporaryDir(name)) {
    return InvalidArgumentError("composite item name \"" + name + "\" marks an unfinished save");
  }
  return OkStatus();
}

Status ValidateItems(const CompositeSaveArgs& args) {
  if (args.items.empty()) return InvalidArgumentError("a composite save needs at least one item");
  std::set<std::string> names;
  for (const auto& [name, item] : args.items) {
    STOWAGE_RETURN_IF_ERROR(ValidateItemName(name));
    if (!names.insert(name).second) {
      return InvalidArgumentError("composite item \"" + name + "\" is given twice");
    }
  }
  return OkStatus();
}

}  // namespace

CompositeCheckpointHandler::CompositeCheckpointHandler(CompositeCheckpointHandlerOptions options)
    : options_(std::move(options)), pytree_(options_.pytree) {}

Result<std::vector<Future<void>>> CompositeCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                        CompositeSaveArgs args) {
  STOWAGE_RETURN_IF_ERROR(ValidateItems(args));
  item_handlers_.clear();
  std::vector<Future<void>> futures;
  for (auto& [name, item] : args.items) {
    fs::path item_dir = directory / name;
    if (!kvstore::IsObjectStoreUrl(item_dir)) {  // object stores have no folders to make
      std::error_code ec;
      fs::create_directories(item_dir, ec);
    }
    Result<std::vector<Future<void>>> started = std::vector<Future<void>>{};
    if (auto* tree = std::get_if<PyTreeSaveArgs>(&item)) {
      started = pytree_.AsyncSave(item_dir, std::move(*tree));
      item_handlers_[name] = PyTreeCheckpointHandler::kTypestr;
    } else {
      auto filename = options_.json_filenames.find(name);
      JsonCheckpointHandler json(
          filename == options_.json_filenames.end() ? options_.json_filename : filename->second,
          options_.pytree.fsync);
      if (pytree_.coordinator().process_index() == 0) {  // Orbax: the primary host writes it
        started = json.AsyncSave(item_dir, std::move(std::get<JsonSaveArgs>(item)));
      }
      item_handlers_[name] = JsonCheckpointHandler::kTypestr;
    }
    if (!started.has_value()) {
      (void)WaitAll(futures);  // let started items finish before the caller cleans up
      return started.error().WithContext("composite item \"" + name + "\"");
    }
    for (auto& future : *started) futures.push_back(std::move(future));
  }
  return futures;
}

Status CompositeCheckpointHandler::Save(const fs::path& directory, CompositeSaveArgs args) {
  STOWAGE_ASSIGN_OR_RETURN(auto futures, AsyncSave(directory, std::move(args)));
  return WaitAll(futures);
}

Result<CompositeCheckpointHandler::Restored> CompositeCheckpointHandler::Restore(
    const fs::path& directory, const CompositeRestoreArgs& args) const {
  return RestoreCompositeCheckpoint(directory, args, options_.pytree);
}

nlohmann::ordered_json CompositeCheckpointHandler::ItemHandlers() const {
  nlohmann::ordered_json handlers = nlohmann::ordered_json::object();
  for (const auto& [name, typestr] : item_handlers_) handlers[name] = typestr;
  return handlers;
}

Status CompositeCheckpointHandler::Finalize(const fs::path& directory) {
  return pytree_.Finalize(directory);
}

void CompositeCheckpointHandler::Close() { pytree_.Close(); }

}  // namespace stowage
