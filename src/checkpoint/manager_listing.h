// What a CheckpointManager reads from and does to its root directory,
// without any coordination: listing committed steps, cleaning temporaries,
// deleting a step, the root metadata file.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "stowage/checkpoint_manager.h"

namespace stowage::checkpoint {

// `<root>/metadata/_ROOT_METADATA`.
std::filesystem::path RootMetadataPath(const std::filesystem::path& root);

// The committed steps under `root`, ascending, with their commit times and
// metrics. Errors: kDataLoss (a step's `_CHECKPOINT_METADATA` or metrics
// unreadable, named), kIo.
Result<std::vector<StepInfo>> ListCheckpoints(const std::filesystem::path& root,
                                              const StepNameFormat& names);

// The metrics saved in `<step_dir>/metrics/metrics`, or none. Errors:
// kDataLoss (malformed), kIo.
Result<std::optional<nlohmann::ordered_json>> ReadStepMetrics(
    const std::filesystem::path& step_dir);

// Removes what crashed saves and deletions of steps left under `root`:
// `<step name>.orbax-checkpoint-tmp*`.
Status RemoveStepTemporaries(const std::filesystem::path& root, const StepNameFormat& names);

// Deletes a step folder: renames it to a temporary name first (on an object
// store: deletes its commit_success.txt first), so that a crash never leaves
// a partly deleted step that looks committed.
Status DeleteStepFolder(const std::filesystem::path& step_dir);

// Writes `_ROOT_METADATA` with `custom_metadata` unless it exists.
Status WriteRootMetadataOnce(const std::filesystem::path& root,
                             const nlohmann::ordered_json& custom_metadata);

// The custom_metadata of `_ROOT_METADATA` (null when there is none).
// Errors: kDataLoss (malformed), kIo.
Result<nlohmann::ordered_json> ReadRootCustomMetadata(const std::filesystem::path& root);

// The commit time `_CHECKPOINT_METADATA` of `step_dir` records, if it is
// readable and has one.
std::optional<std::chrono::system_clock::time_point> RecordedCommitTime(
    const std::filesystem::path& step_dir);

// An info as JSON and back, to share it between processes. Errors of
// StepInfoFromJson: kDataLoss (malformed).
nlohmann::ordered_json StepInfoToJson(const StepInfo& info);
Result<StepInfo> StepInfoFromJson(const nlohmann::ordered_json& json);

// Infos as JSON text and back.
std::string EncodeStepInfos(const std::vector<StepInfo>& infos);
Result<std::vector<StepInfo>> DecodeStepInfos(std::string_view text);

}  // namespace stowage::checkpoint
