#include "checkpoint/manager_listing.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/python_json.h"
#include "base/stored_json.h"
#include "checkpoint/checkpoint_metadata.h"
#include "checkpoint/layout.h"
#include "kvstore/file_ops.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::system_clock;

namespace {

// Metrics and root metadata are small JSON files; anything larger is not one.
constexpr std::uint64_t kMaxJsonBytes = std::uint64_t{64} << 20;

Result<std::optional<ojson>> ReadOptionalJson(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<ojson>();
  STOWAGE_ASSIGN_OR_RETURN(Bytes bytes, kvstore::ReadWholeFile(path, kMaxJsonBytes));
  STOWAGE_ASSIGN_OR_RETURN(ojson value, ParseStoredJson<ojson>(AsStringView(bytes), path.string()));
  return std::optional<ojson>(std::move(value));
}

Clock::time_point FromNanos(std::int64_t nanos) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(nanos)));
}

// Orbax's commit time of a step: `_CHECKPOINT_METADATA`'s, else the folder's
// mtime (orbax `step.py` Metadata.commit_timestamp).
Result<Clock::time_point> CommitTime(const fs::path& step_dir) {
  std::error_code ec;
  if (fs::exists(step_dir / kCheckpointMetadataFile, ec)) {
    STOWAGE_ASSIGN_OR_RETURN(CheckpointMetadata metadata, ReadCheckpointMetadata(step_dir));
    if (metadata.commit_timestamp_nsecs) return FromNanos(*metadata.commit_timestamp_nsecs);
  }
  auto mtime = fs::last_write_time(step_dir, ec);
  if (ec) return IoError("cannot stat " + step_dir.string() + ": " + ec.message());
  return std::chrono::time_point_cast<Clock::duration>(std::chrono::file_clock::to_sys(mtime));
}

// The step a temporary left under `root` belongs to (`<step name><marker>…`).
bool IsStepTemporary(const std::string& name, const StepNameFormat& names) {
  auto marker = name.find(kTmpDirMarker);
  return marker != std::string::npos && names.Parse(name.substr(0, marker)).has_value();
}

}  // namespace

fs::path RootMetadataPath(const fs::path& root) { return root / "metadata" / "_ROOT_METADATA"; }

Result<std::optional<ojson>> ReadStepMetrics(const fs::path& step_dir) {
  std::string item(kMetricsItemName);
  return ReadOptionalJson(step_dir / item / item);
}

Result<std::vector<StepInfo>> ListCheckpoints(const fs::path& root, const StepNameFormat& names) {
  std::vector<StepInfo> infos;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    auto step = names.Parse(it->path().filename().string());
    if (!step || !it->is_directory(ec)) continue;
    StepInfo info{.step = *step};
    STOWAGE_ASSIGN_OR_RETURN(info.time, CommitTime(it->path()));
    STOWAGE_ASSIGN_OR_RETURN(info.metrics, ReadStepMetrics(it->path()));
    infos.push_back(std::move(info));
  }
  if (ec) return IoError("cannot list " + root.string() + ": " + ec.message());
  std::sort(infos.begin(), infos.end(),
            [](const auto& a, const auto& b) { return a.step < b.step; });
  return infos;
}

Status RemoveStepTemporaries(const fs::path& root, const StepNameFormat& names) {
  std::vector<fs::path> temporaries;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (IsStepTemporary(it->path().filename().string(), names)) temporaries.push_back(it->path());
  }
  if (ec) return IoError("cannot list " + root.string() + ": " + ec.message());
  for (const auto& temporary : temporaries) STOWAGE_RETURN_IF_ERROR(kvstore::RemoveAll(temporary));
  return OkStatus();
}

Status DeleteStepFolder(const fs::path& step_dir) {
  fs::path doomed = step_dir;
  doomed += std::string(kTmpDirMarker) + "-deleting";
  STOWAGE_RETURN_IF_ERROR(kvstore::RemoveAll(doomed));
  STOWAGE_RETURN_IF_ERROR(kvstore::Rename(step_dir, doomed));
  return kvstore::RemoveAll(doomed);
}

Status WriteRootMetadataOnce(const fs::path& root, const ojson& custom_metadata) {
  fs::path path = RootMetadataPath(root);
  std::error_code ec;
  if (fs::exists(path, ec)) return OkStatus();  // written by an earlier run
  STOWAGE_RETURN_IF_ERROR(kvstore::CreateDirectories(path.parent_path()));
  ojson metadata = {{"internal_metadata", ojson::object()}, {"custom_metadata", custom_metadata}};
  return kvstore::WriteFileAtomically(path, AsBytes(DumpPythonJson(metadata)), true);
}

Result<ojson> ReadRootCustomMetadata(const fs::path& root) {
  fs::path path = RootMetadataPath(root);
  STOWAGE_ASSIGN_OR_RETURN(auto metadata, ReadOptionalJson(path));
  if (!metadata) return ojson();
  if (!metadata->is_object()) return DataLossError(path.string() + ": not a JSON object");
  return metadata->value("custom_metadata", ojson());
}

std::string EncodeStepInfos(const std::vector<StepInfo>& infos) {
  ojson list = ojson::array();
  for (const auto& info : infos) {
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(info.time.time_since_epoch());
    list.push_back({{"step", info.step},
                    {"time_ns", nanos.count()},
                    {"metrics", info.metrics ? *info.metrics : ojson()},
                    {"has_metrics", info.metrics.has_value()}});
  }
  return list.dump();
}

Result<std::vector<StepInfo>> DecodeStepInfos(std::string_view text) {
  STOWAGE_ASSIGN_OR_RETURN(ojson list, ParseStoredJson<ojson>(text, "the primary's step list"));
  std::vector<StepInfo> infos;
  try {
    for (const auto& entry : list) {
      StepInfo info{.step = entry.at("step").get<std::int64_t>(),
                    .time = FromNanos(entry.at("time_ns").get<std::int64_t>())};
      if (entry.at("has_metrics").get<bool>()) info.metrics = entry.at("metrics");
      infos.push_back(std::move(info));
    }
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(std::string("malformed step list from the primary process: ") + e.what());
  }
  return infos;
}

}  // namespace stowage::checkpoint
