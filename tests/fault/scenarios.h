// The saves that the fault tests interrupt: one per kind of checkpoint
// (a single array, a tree of zarr v2 folders, a tree in OCDBT, a zarr3 tree
// with the sharding codec, an asynchronous save, and two processes saving
// one sharded array).
// Each can save three versions of its content, so that a restore tells
// which version a directory holds, bit-exactly.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "stowage/error.h"

namespace stowage::fault {

struct Scenario {
  std::string name;
  // Saves version `version` (1, 2 or 3) to `directory` through a
  // Checkpointer, replacing what is there when `force`.
  std::function<Status(const std::filesystem::path& directory, int version, bool force)> save;
  // Restores `directory` and returns the version it holds; kDataLoss when
  // the restored values match no version.
  std::function<Result<int>(const std::filesystem::path& directory)> restored_version;
};

// Every scenario.
const std::vector<Scenario>& Scenarios();

// The scenario called `name`; null when there is none.
const Scenario* FindScenario(const std::string& name);

}  // namespace stowage::fault
