#include "checkpoint/manager_listing.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/python_json.h"
#include "base/stored_json.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"
#include "kvstore/file_ops.h"
#include "stowage/directory.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::system_clock;

namespace {

// Metrics and root metadata are small JSON files; anything larger is not one.
constexpr std::uint64_t kMaxJsonBytes = std::uint64_t{64} << 20;

Result<std::optional<ojson>> ReadOptionalJson(const fs::path& path) {
  STOWAGE_ASSIGN_OR_RETURN(bool exists, FileExists(path));
  if (!exists) return std::optional<ojson>();
  STOWAGE_ASSIGN_OR_RETURN(Bytes bytes, ReadFileBytes(path, kMaxJsonBytes));
  STOWAGE_ASSIGN_OR_RETURN(ojson value, ParseStoredJson<ojson>(AsStringView(bytes), path.string()));
  return std::optional<ojson>(std::move(value));
}

Clock::time_point FromNanos(std::int64_t nanos) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(nanos)));
}

// Orbax's commit time of a step: `_CHECKPOINT_METADATA`'s, else the folder's
// mtime (orbax `step.py` Metadata.commit_timestamp); on an object store,
// which has no folders, the epoch.
Result<Clock::time_point> CommitTime(const fs::path& step_dir) {
  STOWAGE_ASSIGN_OR_RETURN(bool has_metadata, FileExists(step_dir / kCheckpointMetadataFile));
  if (has_metadata) {
    STOWAGE_ASSIGN_OR_RETURN(CheckpointMetadata metadata, ReadCheckpointMetadata(step_dir));
    if (metadata.commit_timestamp_nsecs) return FromNanos(*metadata.commit_timestamp_nsecs);
  }  // (an unreadable file is an error here, unlike in RecordedCommitTime)
  if (kvstore::IsObjectStoreUrl(step_dir)) return Clock::time_point();
  std::error_code ec;
  auto mtime = fs::last_write_time(step_dir, ec);
  if (ec) return IoError("cannot stat " + step_dir.string() + ": " + ec.message());
  return std::chrono::time_point_cast<Clock::duration>(std::chrono::file_clock::to_sys(mtime));
}

// The step a temporary left under `root` belongs to (`<step name><marker>…`).
bool IsStepTemporary(const std::string& name, const StepNameFormat& names) {
  auto marker = name.find(kTmpDirMarker);
  return marker != std::string::npos && names.Parse(name.substr(0, marker)).has_value();
}

// A step folder is a checkpoint on a filesystem (temporaries have other
// names); on an object store only once `commit_success.txt` is there.
Result<bool> IsCommitted(const fs::path& step_dir) {
  if (!kvstore::IsObjectStoreUrl(step_dir)) return true;
  return FileExists(step_dir / kCommitSuccessFile);
}

}  // namespace

fs::path RootMetadataPath(const fs::path& root) { return root / "metadata" / "_ROOT_METADATA"; }

Result<std::optional<ojson>> ReadStepMetrics(const fs::path& step_dir) {
  std::string item(kMetricsItemName);
  return ReadOptionalJson(step_dir / item / item);
}

Result<std::vector<StepInfo>> ListCheckpoints(const fs::path& root, const StepNameFormat& names) {
  std::vector<StepInfo> infos;
  STOWAGE_ASSIGN_OR_RETURN(FolderEntries entries, ListFolder(root));
  for (const std::string& name : entries.folders) {
    auto step = names.Parse(name);
    if (!step) continue;
    fs::path step_dir = root / name;
    STOWAGE_ASSIGN_OR_RETURN(bool committed, IsCommitted(step_dir));
    if (!committed) continue;
    StepInfo info{.step = *step};
    STOWAGE_ASSIGN_OR_RETURN(info.time, CommitTime(step_dir));
    STOWAGE_ASSIGN_OR_RETURN(info.metrics, ReadStepMetrics(step_dir));
    infos.push_back(std::move(info));
  }
  std::sort(infos.begin(), infos.end(),
            [](const auto& a, const auto& b) { return a.step < b.step; });
  return infos;
}

Status RemoveStepTemporaries(const fs::path& root, const StepNameFormat& names) {
  STOWAGE_ASSIGN_OR_RETURN(FolderEntries entries, ListFolder(root));
  for (const std::string& name : entries.folders) {
    if (IsStepTemporary(name, names))
      STOWAGE_RETURN_IF_ERROR(kvstore::RemoveDirectory(root / name));
  }
  return OkStatus();
}

Status DeleteStepFolder(const fs::path& step_dir) {
  if (kvstore::IsObjectStoreUrl(step_dir)) {
    // Un-commit first: a crash part-way leaves an unfinished save, not a
    // checkpoint with missing files.
    STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(step_dir));
    STOWAGE_RETURN_IF_ERROR(store->Delete(kCommitSuccessFile));
    return store->DeleteAll("");
  }
  fs::path doomed = step_dir;
  doomed += std::string(kTmpDirMarker) + "-deleting";
  STOWAGE_RETURN_IF_ERROR(kvstore::RemoveAll(doomed));
  STOWAGE_RETURN_IF_ERROR(kvstore::Rename(step_dir, doomed));
  return kvstore::RemoveAll(doomed);
}

Status WriteRootMetadataOnce(const fs::path& root, const ojson& custom_metadata) {
  fs::path path = RootMetadataPath(root);
  STOWAGE_ASSIGN_OR_RETURN(bool exists, FileExists(path));
  if (exists) return OkStatus();  // written by an earlier run
  ojson metadata = {{"internal_metadata", ojson::object()}, {"custom_metadata", custom_metadata}};
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(path.parent_path()));
  return store->Write(path.filename().string(), AsBytes(DumpPythonJson(metadata)),
                      {.atomic = true});
}

Result<ojson> ReadRootCustomMetadata(const fs::path& root) {
  fs::path path = RootMetadataPath(root);
  STOWAGE_ASSIGN_OR_RETURN(auto metadata, ReadOptionalJson(path));
  if (!metadata) return ojson();
  if (!metadata->is_object()) return DataLossError(path.string() + ": not a JSON object");
  return metadata->value("custom_metadata", ojson());
}

std::optional<Clock::time_point> RecordedCommitTime(const fs::path& step_dir) {
  auto metadata = ReadCheckpointMetadata(step_dir);
  if (!metadata.has_value() || !metadata->commit_timestamp_nsecs) return std::nullopt;
  return FromNanos(*metadata->commit_timestamp_nsecs);
}

ojson StepInfoToJson(const StepInfo& info) {
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(info.time.time_since_epoch());
  return {{"step", info.step},
          {"time_ns", nanos.count()},
          {"metrics", info.metrics ? *info.metrics : ojson()},
          {"has_metrics", info.metrics.has_value()}};
}

Result<StepInfo> StepInfoFromJson(const ojson& json) {
  try {
    StepInfo info{.step = json.at("step").get<std::int64_t>(),
                  .time = FromNanos(json.at("time_ns").get<std::int64_t>())};
    if (json.at("has_metrics").get<bool>()) info.metrics = json.at("metrics");
    return info;
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(std::string("malformed step info from the primary process: ") + e.what());
  }
}

std::string EncodeStepInfos(const std::vector<StepInfo>& infos) {
  ojson list = ojson::array();
  for (const auto& info : infos) list.push_back(StepInfoToJson(info));
  return list.dump();
}

Result<std::vector<StepInfo>> DecodeStepInfos(std::string_view text) {
  STOWAGE_ASSIGN_OR_RETURN(ojson list, ParseStoredJson<ojson>(text, "the primary's step list"));
  if (!list.is_array()) return DataLossError("malformed step list from the primary process");
  std::vector<StepInfo> infos;
  for (const auto& entry : list) {
    STOWAGE_ASSIGN_OR_RETURN(StepInfo info, StepInfoFromJson(entry));
    infos.push_back(std::move(info));
  }
  return infos;
}

}  // namespace stowage::checkpoint
