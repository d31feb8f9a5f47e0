// How the items of a composite checkpoint are recognised, shared by
// restore (composite_restore.cc) and inspect (inspect_composite.cc): by the
// handler typestr `_CHECKPOINT_METADATA` records, or by the item's files.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "stowage/inspect.h"

namespace stowage::checkpoint {

// The empty marker file Orbax's v1 API writes at the top of a checkpoint
// (orbax v1 `orbax_layout.ORBAX_CHECKPOINT_INDICATOR_FILE`).
inline constexpr std::string_view kV1MarkerFile = "orbax.checkpoint";

// The kind of item a handler typestr saves: PyTree/Standard handlers (v0
// and v1) trees, JSON handlers (v0 JsonCheckpointHandler; v1 JsonHandler and
// MetricsHandler) JSON.
ItemKind ItemKindOfHandler(std::string_view typestr);

// True when `dir` itself holds the files of a PyTree (`_METADATA`,
// `manifest.ocdbt` or a legacy aggregate file).
bool HoldsTree(const std::filesystem::path& dir);

// The file a JSON item keeps its value in (JsonCheckpointHandler:
// `<item>/<item>` or `<item>/metadata`; v1 JsonHandler: `<item>/data.json`).
std::optional<std::filesystem::path> JsonFileOf(const std::filesystem::path& item_dir);

// The kind of an item whose handler is not recorded, by its files.
ItemKind ItemKindOfDirectory(const std::filesystem::path& item_dir);

}  // namespace stowage::checkpoint
