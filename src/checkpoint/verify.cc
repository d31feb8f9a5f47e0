#include "stowage/verify.h"

#include <algorithm>

#include "checkpoint/dir_ops.h"
#include "checkpoint/layout.h"
#include "checkpoint/string_leaves.h"
#include "checkpoint/verify_coverage.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/directory.h"
#include "stowage/inspect.h"
#include "stowage/ocdbt.h"
#include "tree/pytree.h"

namespace stowage {
namespace fs = std::filesystem;
namespace {

// Roots of the OCDBT databases in `directory`: itself and each process's.
Result<std::vector<std::string>> DatabaseRoots(const fs::path& directory) {
  std::vector<std::string> roots;
  STOWAGE_ASSIGN_OR_RETURN(auto entries, checkpoint::ListFolder(directory));
  auto manifest = std::string(checkpoint::kOcdbtManifestFile);
  if (std::count(entries.files.begin(), entries.files.end(), manifest)) roots.push_back("");
  for (const std::string& name : entries.folders) {
    if (!name.starts_with(checkpoint::kOcdbtProcessDirPrefix)) continue;
    STOWAGE_ASSIGN_OR_RETURN(bool database, checkpoint::FileExists(directory / name / manifest));
    if (database) roots.push_back(name + "/");
  }
  std::sort(roots.begin(), roots.end());
  return roots;
}

void VerifyDatabase(const std::shared_ptr<kvstore::Store>& files, const std::string& root,
                    VerifyReport& report) {
  auto store = kvstore::OcdbtStore::Open(files, root);
  if (!store.has_value()) return report.problems.push_back(store.error());
  ++report.ocdbt_databases;
  auto keys = (*store)->List("");
  if (!keys.has_value()) return report.problems.push_back(keys.error());
  for (const auto& key : *keys) {
    auto value = (*store)->Read(key);
    if (!value.has_value()) {
      report.problems.push_back(value.error());
      continue;
    }
    ++report.ocdbt_keys;
    report.ocdbt_value_bytes += value->size();
  }
}

// The checkpoint's files, and its root OCDBT database when it has one.
struct CheckpointStores {
  std::shared_ptr<kvstore::Store> files;
  std::unique_ptr<kvstore::OcdbtStore> ocdbt;
};

CheckpointStores OpenStores(std::shared_ptr<kvstore::Store> files, bool has_ocdbt) {
  CheckpointStores stores{std::move(files), nullptr};
  if (has_ocdbt) {
    auto ocdbt = kvstore::OcdbtStore::Open(stores.files);
    if (ocdbt.has_value()) stores.ocdbt = std::move(*ocdbt);
  }
  return stores;
}

// Reads a string leaf back from `_strings.json`.
void VerifyStringLeaf(const LeafInfo& leaf, const CheckpointStores& stores, VerifyReport& report) {
  auto text = checkpoint::ReadStringLeaf(*stores.files, leaf.name);
  if (!text.has_value()) {
    report.problems.push_back(text.error().WithContext("leaf \"" + leaf.name + "\""));
    return;
  }
  ++report.strings;
}

void VerifyLeaf(const fs::path& directory, const LeafInfo& leaf, const CheckpointStores& stores,
                VerifyReport& report) {
  if (leaf.value_type == tree::kStringTypestr) return VerifyStringLeaf(leaf, stores, report);
  if (tree::IsEmptyNodeTypestr(leaf.value_type)) return;  // nothing stored
  if (leaf.problem == "stored in the legacy msgpack aggregate file") {
    ++report.skipped;
    return;
  }
  ArrayCheckpointHandlerOptions options;
  options.checkpoint_name = leaf.name;
  ArrayRestoreArgs args;
  args.restore_args.restore_type = RestoreType::kArray;
  auto restored = ArrayCheckpointHandler(options).Restore(directory, args);
  if (!restored.has_value()) {
    report.problems.push_back(restored.error().WithContext("leaf \"" + leaf.name + "\""));
    return;
  }
  ++report.arrays;
  report.array_bytes += std::get<Array>(*restored).num_bytes();
  auto uncovered = checkpoint::FindUncoveredChunks(*stores.files, stores.ocdbt.get(), leaf);
  if (uncovered) report.unverifiable.push_back(std::move(*uncovered));
}

}  // namespace

Result<VerifyReport> VerifyCheckpoint(const fs::path& directory) {
  STOWAGE_ASSIGN_OR_RETURN(CheckpointInfo info, InspectCheckpoint(directory));
  VerifyReport report;
  STOWAGE_ASSIGN_OR_RETURN(std::shared_ptr<kvstore::Store> files,
                           kvstore::OpenDirectory(directory));
  STOWAGE_ASSIGN_OR_RETURN(auto roots, DatabaseRoots(directory));
  for (const auto& root : roots) VerifyDatabase(files, root, report);
  CheckpointStores stores = OpenStores(files, info.ocdbt.has_value());
  for (const auto& leaf : info.leaves) VerifyLeaf(directory, leaf, stores, report);
  return report;
}

}  // namespace stowage
