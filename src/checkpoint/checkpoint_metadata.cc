#include "checkpoint/checkpoint_metadata.h"

#include <chrono>
#include <string>

#include "base/python_json.h"
#include "base/stored_json.h"
#include "checkpoint/layout.h"
#include "stowage/directory.h"

namespace stowage::checkpoint {
namespace {

using ojson = nlohmann::ordered_json;

ojson OptionalInt(const std::optional<std::int64_t>& value) {
  return value ? ojson(*value) : ojson();
}

Result<std::optional<std::int64_t>> ReadTimestamp(const ojson& doc, const char* field,
                                                  const std::string& where) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) return DataLossError(where + ": \"" + field + "\" is not an int");
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

}  // namespace

std::string EncodeCheckpointMetadata(const CheckpointMetadata& m) {
  ojson doc = {{"item_handlers", m.item_handlers},
               {"metrics", m.metrics},
               {"performance_metrics", m.performance_metrics},
               {"init_timestamp_nsecs", OptionalInt(m.init_timestamp_nsecs)},
               {"commit_timestamp_nsecs", OptionalInt(m.commit_timestamp_nsecs)},
               {"custom_metadata", m.custom_metadata}};
  return DumpPythonJson(doc);
}

Result<CheckpointMetadata> ParseCheckpointMetadata(std::string_view text, std::string_view path) {
  std::string where(path);
  STOWAGE_ASSIGN_OR_RETURN(ojson doc, ParseStoredJson<ojson>(text, where));
  if (!doc.is_object()) return DataLossError(where + ": not a JSON object");
  CheckpointMetadata m;
  m.item_handlers = doc.value("item_handlers", ojson());
  if (doc.contains("metrics") && doc["metrics"].is_object()) m.metrics = doc["metrics"];
  if (doc.contains("performance_metrics") && doc["performance_metrics"].is_object()) {
    m.performance_metrics = doc["performance_metrics"];
  }
  STOWAGE_ASSIGN_OR_RETURN(m.init_timestamp_nsecs,
                           ReadTimestamp(doc, "init_timestamp_nsecs", where));
  STOWAGE_ASSIGN_OR_RETURN(m.commit_timestamp_nsecs,
                           ReadTimestamp(doc, "commit_timestamp_nsecs", where));
  if (doc.contains("custom_metadata") && !doc["custom_metadata"].is_null()) {
    m.custom_metadata = doc["custom_metadata"];
  }
  return m;
}

Result<CheckpointMetadata> ReadCheckpointMetadata(const std::filesystem::path& dir) {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(dir));
  STOWAGE_ASSIGN_OR_RETURN(Bytes text,
                           store->Read(kCheckpointMetadataFile, {.max_bytes = 1u << 26}));
  std::string_view view(reinterpret_cast<const char*>(text.data()), text.size());
  return ParseCheckpointMetadata(view, store->Describe(kCheckpointMetadataFile));
}

std::int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace stowage::checkpoint
