// The engine under every tree-shaped handler, after Orbax's
// BasePyTreeCheckpointHandler (orbax `_src/handlers/base_pytree_checkpoint_handler.py`):
// it saves a flat list of keyed leaves through the type-handler registry,
// writes `_METADATA` once every leaf's data is written, and restores leaves
// by key path using `_METADATA` (or, for legacy checkpoints, without it).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "array/zarr_array.h"
#include "stowage/coordinator.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "stowage/ocdbt.h"
#include "stowage/tree.h"
#include "stowage/type_handler.h"
#include "tree/tree_metadata.h"
#include "tree/type_handler.h"

namespace stowage::checkpoint {

struct LeafToSave {
  tree::KeyPath keypath;
  Leaf value;
  SaveArgs args;
  // Non-empty for an empty node ("Dict", "List", "None"): recorded in
  // `_METADATA` with skip_deserialize, no data written; `value` is ignored.
  std::string empty_node_typestr;
};

struct BasePyTreeOptions {
  bool use_ocdbt = false;
  bool use_zarr3 = false;
  bool use_compression = true;
  bool zstd_checksum = true;  // see tree::ParamInfo::zstd_checksum
  // What Array and ArrayView leaves are saved as (value_type).
  ArrayValueType array_value_type = ArrayValueType::kNumpy;
  // With OCDBT, the largest chunk in bytes (Orbax's default for local files).
  std::int64_t ocdbt_target_data_file_size = std::int64_t{2} << 30;
  // See tree::ParamInfo::max_default_chunk_bytes.
  std::int64_t max_default_chunk_bytes = 0;
  kvstore::FileStoreOptions file;
  array_io::IoOptions io;
  // The processes saving together (null: this one alone), and the longest
  // any collective step may wait.
  std::shared_ptr<Coordinator> coordinator;
  std::chrono::milliseconds collective_timeout = std::chrono::minutes(20);
  std::shared_ptr<const tree::TypeHandlerRegistry> registry;  // null: built-ins
};

class BasePyTreeHandler {
 public:
  explicit BasePyTreeHandler(BasePyTreeOptions options);

  // Snapshots every leaf, then writes in the background. The returned
  // futures finish when the leaves' data and then `_METADATA` are written.
  // Errors (before anything is written): kInvalidArgument (no leaves,
  // duplicate names, a value_type that does not save the leaf),
  // kUnsupported (a leaf no handler saves).
  Result<std::vector<Future<void>>> AsyncSave(const std::filesystem::path& directory,
                                              std::vector<LeafToSave> leaves,
                                              nlohmann::ordered_json custom_metadata);

  // Reads `<directory>/_METADATA`. Errors: kNotFound, kDataLoss.
  Result<tree::TreeMetadata> ReadTreeMetadata(const std::filesystem::path& directory) const;

  // Restores the leaf whose param name is `param_name` ("a.b"), as
  // `_METADATA` describes it. Errors: kNotFound when no leaf has that name.
  Result<Leaf> RestoreLeaf(const std::filesystem::path& directory,
                           const tree::TreeMetadata& metadata, const std::string& param_name,
                           const RestoreArgs& args) const;

  // Restores the leaf of `entry` from `store` (opened once by the caller with
  // OpenArrayStore): an empty node for empty typestrs, else through the
  // type handler. Errors: as RestoreLeaf.
  Result<Tree> RestoreEntry(const std::filesystem::path& directory,
                            std::shared_ptr<kvstore::Store> store,
                            const tree::TreeMetadata& metadata,
                            const tree::TreeMetadataEntry& entry, const RestoreArgs& args) const;

  // Restores the array stored under param `name` in a checkpoint without
  // `_METADATA`, read through the "np.ndarray" handler (Orbax's legacy path).
  Result<Leaf> RestoreLegacyLeaf(const std::filesystem::path& directory, const std::string& name,
                                 const RestoreArgs& args) const;

  const BasePyTreeOptions& options() const { return options_; }
  int ProcessIndex() const { return options_.coordinator->process_index(); }

 private:
  struct SideFiles;
  Result<std::vector<Future<void>>> StartSave(const std::filesystem::path& directory,
                                              std::vector<LeafToSave> leaves,
                                              nlohmann::ordered_json custom_metadata);
  Result<std::vector<const tree::TypeHandler*>> ResolveHandlers(
      const std::vector<LeafToSave>& leaves) const;
  Future<void> FinishSave(const std::vector<Future<void>>& leaves_written,
                          std::shared_ptr<kvstore::Store> store,
                          std::shared_ptr<kvstore::OcdbtStore> process_db,
                          std::shared_ptr<const SideFiles> side);
  tree::ParamInfo MakeParamInfo(std::shared_ptr<kvstore::Store> store, tree::KeyPath keypath,
                                bool raise_missing) const;

  BasePyTreeOptions options_;
  std::mutex finish_mutex_;
  std::optional<Future<void>> last_finish_;  // the last save's collective steps
};

// The store a checkpoint's arrays are read from: the OCDBT database at
// `directory` when it has `manifest.ocdbt`, else the directory itself.
// Errors: kDataLoss (corrupt manifest), kNotFound (`metadata` says OCDBT but
// the manifest is missing).
Result<std::shared_ptr<kvstore::Store>> OpenArrayStore(const std::filesystem::path& directory,
                                                       const tree::TreeMetadata* metadata);

}  // namespace stowage::checkpoint
