// stowage layer: checkpoint
//
// JsonCheckpointHandler saves and restores one JSON value as the file
// `<dir>/<filename>` (default "metadata"), written as Python's json.dumps
// writes it, as Orbax's JsonCheckpointHandler does (orbax
// `_src/handlers/json_checkpoint_handler.py`). Use it alone or as an item of
// a CompositeCheckpointHandler (e.g. `metadata/metadata` beside `state/`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/future.h"
#include "stowage/kvstore.h"

namespace stowage {

// Orbax `JsonSave(item)`.
struct JsonSaveArgs {
  nlohmann::ordered_json item;
};

// Orbax `JsonRestore()`.
struct JsonRestoreArgs {};

class JsonCheckpointHandler {
 public:
  using SaveArgsType = JsonSaveArgs;
  using RestoreArgsType = JsonRestoreArgs;
  using Restored = nlohmann::ordered_json;

  // Orbax's typestr for this handler, written to `_CHECKPOINT_METADATA`.
  static constexpr std::string_view kTypestr =
      "orbax.checkpoint._src.handlers.json_checkpoint_handler.JsonCheckpointHandler";
  // The largest file Restore reads.
  static constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 30;

  explicit JsonCheckpointHandler(std::string filename = "metadata",
                                 kvstore::FsyncPolicy fsync = kvstore::FsyncPolicy::kEveryWrite);

  // Writes the value (atomically replacing the file) and returns its
  // already-finished commit future (the value is small). Errors: kIo naming
  // the file.
  Result<std::vector<Future<void>>> AsyncSave(const std::filesystem::path& directory,
                                              JsonSaveArgs args);
  Status Save(const std::filesystem::path& directory, JsonSaveArgs args);

  // Reads the value back. Errors: kNotFound naming the file, kDataLoss (not
  // JSON, or larger than kMaxFileBytes).
  Result<nlohmann::ordered_json> Restore(const std::filesystem::path& directory,
                                         const JsonRestoreArgs& args = {}) const;

  // Kept for the Orbax protocol (nothing to do).
  Status Finalize(const std::filesystem::path& directory);
  void Close();

  const std::string& filename() const { return filename_; }

 private:
  std::string filename_;
  kvstore::FsyncPolicy fsync_;
};

// Reads the JSON file at `file` (at most JsonCheckpointHandler::kMaxFileBytes).
// Errors: kNotFound, kDataLoss naming the file.
Result<nlohmann::ordered_json> ReadJsonFile(const std::filesystem::path& file);

}  // namespace stowage
