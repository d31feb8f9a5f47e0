#include "stowage/json_checkpoint_handler.h"

#include "base/bytes.h"
#include "base/python_json.h"
#include "base/stored_json.h"
#include "checkpoint/dir_ops.h"
#include "stowage/directory.h"

namespace stowage {
namespace fs = std::filesystem;

JsonCheckpointHandler::JsonCheckpointHandler(std::string filename, kvstore::FsyncPolicy fsync)
    : filename_(filename.empty() ? "metadata" : std::move(filename)), fsync_(fsync) {}

Result<std::vector<Future<void>>> JsonCheckpointHandler::AsyncSave(const fs::path& directory,
                                                                   JsonSaveArgs args) {
  std::string text = DumpPythonJson(args.item);
  kvstore::FileStoreOptions options;
  options.fsync = fsync_;
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(directory, options));
  STOWAGE_RETURN_IF_ERROR(store->Write(filename_, AsBytes(text), {.atomic = true}));
  std::vector<Future<void>> futures;
  futures.push_back(Future<void>::Ready(OkStatus()));
  return futures;
}

Status JsonCheckpointHandler::Save(const fs::path& directory, JsonSaveArgs args) {
  STOWAGE_ASSIGN_OR_RETURN(auto futures, AsyncSave(directory, std::move(args)));
  return WaitAll(futures);
}

Result<nlohmann::ordered_json> JsonCheckpointHandler::Restore(const fs::path& directory,
                                                              const JsonRestoreArgs&) const {
  return ReadJsonFile(directory / filename_);
}

Status JsonCheckpointHandler::Finalize(const fs::path&) { return OkStatus(); }

void JsonCheckpointHandler::Close() {}

Result<nlohmann::ordered_json> ReadJsonFile(const fs::path& file) {
  auto bytes = checkpoint::ReadFileBytes(file, JsonCheckpointHandler::kMaxFileBytes);
  if (!bytes.has_value()) {
    if (bytes.error().code() == ErrorCode::kResourceExhausted) {
      return DataLossError(bytes.error().message());
    }
    return bytes.error();
  }
  return ParseStoredJson<nlohmann::ordered_json>(AsStringView(*bytes), file.string());
}

}  // namespace stowage
