// `_CHECKPOINT_METADATA`: Orbax's step metadata (orbax
// `_src/metadata/checkpoint.py`, `step_metadata_serialization.py`). Written
// with Python json.dumps formatting; members item_handlers, metrics,
// performance_metrics, init_timestamp_nsecs, commit_timestamp_nsecs,
// custom_metadata, in that order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "stowage/error.h"

namespace stowage::checkpoint {

struct CheckpointMetadata {
  nlohmann::ordered_json item_handlers;  // null, a typestr, or {item: typestr}
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  nlohmann::ordered_json performance_metrics = nlohmann::ordered_json::object();
  std::optional<std::int64_t> init_timestamp_nsecs;
  std::optional<std::int64_t> commit_timestamp_nsecs;
  nlohmann::ordered_json custom_metadata = nlohmann::ordered_json::object();
};

std::string EncodeCheckpointMetadata(const CheckpointMetadata& metadata);

// Missing members take Orbax's defaults. Errors: kDataLoss naming `path`.
Result<CheckpointMetadata> ParseCheckpointMetadata(std::string_view text, std::string_view path);

// Reads and parses `<dir>/_CHECKPOINT_METADATA`. Errors: kNotFound, kDataLoss
// (malformed, or implausibly large), kIo.
Result<CheckpointMetadata> ReadCheckpointMetadata(const std::filesystem::path& dir);

// Nanoseconds since the Unix epoch, now.
std::int64_t NowNanos();

}  // namespace stowage::checkpoint
