#include "checkpoint/base_pytree_handler.h"

#include <algorithm>
#include <set>

#include "base/bytes.h"
#include "checkpoint/layout.h"
#include "checkpoint/string_leaves.h"
#include "kvstore/key.h"
#include "stowage/ocdbt.h"
#include "tree/pytree.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;

namespace {

// A param name must be a valid relative key and must not shadow a file the
// checkpoint itself uses.
Status ValidateParamName(const std::string& name) {
  if (auto valid = kvstore::ValidateKey(name); !valid.has_value()) {
    return InvalidArgumentError("leaf name \"" + name +
                                "\" cannot be stored: " + valid.error().message());
  }
  std::string first = name.substr(0, name.find('/'));
  for (std::string_view reserved :
       {kTreeMetadataFile, kCheckpointMetadataFile, kCommitSuccessFile, kShardingFile,
        kArrayMetadatasDir, kOcdbtManifestFile, std::string_view("d")}) {
    if (first == reserved || first.starts_with("ocdbt.process_")) {
      return InvalidArgumentError("leaf name \"" + name +
                                  "\" collides with a file of the checkpoint layout");
    }
  }
  return OkStatus();
}

Status ValidateLeaves(const std::vector<LeafToSave>& leaves) {
  bool all_empty = std::all_of(leaves.begin(), leaves.end(),
                               [](const LeafToSave& l) { return !l.empty_node_typestr.empty(); });
  if (all_empty) return InvalidArgumentError("found empty item: the tree has no leaves to save");
  std::set<std::string> names;
  for (const auto& leaf : leaves) {
    std::string name = tree::ParamName(leaf.keypath);
    STOWAGE_RETURN_IF_ERROR(ValidateParamName(name));
    if (!names.insert(name).second) {
      return InvalidArgumentError("two leaves share the param name \"" + name + "\"");
    }
  }
  return OkStatus();
}

std::string ProcessDatabaseRoot(int process) {
  return std::string(kOcdbtProcessDirPrefix) + std::to_string(process) + "/";
}

// Orbax's finalize for OCDBT: commits the process's database, then writes
// the root database that references it (ocdbt_utils.merge_ocdbt_per_process_files).
Status CommitAndMerge(std::shared_ptr<kvstore::Store> files, kvstore::OcdbtStore& process_db) {
  STOWAGE_RETURN_IF_ERROR(process_db.Commit());
  std::vector<std::string> children = {ProcessDatabaseRoot(0)};
  return kvstore::MergeOcdbtDatabases(std::move(files), children);
}

}  // namespace

BasePyTreeHandler::BasePyTreeHandler(BasePyTreeOptions options) : options_(std::move(options)) {
  if (!options_.registry) {
    options_.registry = std::make_shared<const tree::TypeHandlerRegistry>(
        tree::TypeHandlerRegistry::WithBuiltins());
  }
}

tree::ParamInfo BasePyTreeHandler::MakeParamInfo(std::shared_ptr<kvstore::Store> store,
                                                 tree::KeyPath keypath, bool raise_missing) const {
  tree::ParamInfo info;
  info.name = tree::ParamName(keypath);
  info.keypath = std::move(keypath);
  info.store = std::move(store);
  info.use_compression = options_.use_compression;
  info.use_zarr3 = options_.use_zarr3;
  info.raise_array_data_missing_error = raise_missing;
  info.io = options_.io;
  return info;
}

Result<std::vector<Future<void>>> BasePyTreeHandler::AsyncSave(
    const fs::path& directory, std::vector<LeafToSave> leaves,
    nlohmann::ordered_json custom_metadata) {
  STOWAGE_RETURN_IF_ERROR(ValidateLeaves(leaves));
  std::shared_ptr<kvstore::Store> store = kvstore::OpenFileStore(directory, options_.file);
  std::shared_ptr<kvstore::OcdbtStore> process_db;
  if (options_.use_ocdbt) {
    STOWAGE_ASSIGN_OR_RETURN(auto opened, kvstore::OcdbtStore::Open(store, ProcessDatabaseRoot(0)));
    process_db = std::move(opened);
  }
  std::shared_ptr<kvstore::Store> array_store =
      process_db ? std::shared_ptr<kvstore::Store>(process_db) : store;
  // Resolve every handler before writing anything.
  std::vector<const tree::TypeHandler*> handlers;
  auto strings = std::make_shared<nlohmann::json>(nlohmann::json::object());
  for (auto& leaf : leaves) {
    if (!leaf.empty_node_typestr.empty()) {
      handlers.push_back(nullptr);
      continue;
    }
    if (auto* text = std::get_if<std::string>(&leaf.value)) {
      STOWAGE_RETURN_IF_ERROR(AddStringLeaf(*strings, tree::ParamName(leaf.keypath), *text));
      handlers.push_back(nullptr);
      continue;
    }
    auto handler = options_.registry->ForLeaf(leaf.value);
    if (!handler.has_value()) {
      return handler.error().WithContext("leaf \"" + tree::ParamName(leaf.keypath) + "\"");
    }
    handlers.push_back(*handler);
  }
  auto metadata = std::make_shared<tree::TreeMetadata>();
  metadata->use_ocdbt = options_.use_ocdbt;
  metadata->use_zarr3 = options_.use_zarr3;
  metadata->store_array_data_equal_to_fill_value = true;
  metadata->custom_metadata = std::move(custom_metadata);
  std::vector<Future<void>> futures;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (std::holds_alternative<std::string>(leaves[i].value) &&
        leaves[i].empty_node_typestr.empty()) {  // in _strings.json (Orbax StringHandler)
      metadata->entries.push_back(
          {leaves[i].keypath, {std::string(tree::kStringTypestr), false, {}}});
      continue;
    }
    if (handlers[i] == nullptr) {  // an empty node: recorded, no data (Orbax empty_values.py)
      metadata->entries.push_back({leaves[i].keypath, {leaves[i].empty_node_typestr, true, {}}});
      continue;
    }
    auto info = MakeParamInfo(array_store, leaves[i].keypath, true);
    metadata->entries.push_back(
        {leaves[i].keypath, {std::string(handlers[i]->typestr()), false, std::nullopt}});
    auto written = handlers[i]->Serialize(info, std::move(leaves[i].value), leaves[i].args);
    if (!written.has_value()) {
      (void)WaitAll(futures);  // let started writes finish before the caller cleans up
      return written.error();
    }
    futures.push_back(std::move(*written));
  }
  // `_METADATA` goes last, once every leaf is written (Orbax
  // _write_metadata_after_commits).
  Promise<void> metadata_written;
  Future<void> metadata_future = metadata_written.future();
  WhenAll(futures).OnReady([store, process_db, metadata, strings,
                            promise = std::make_shared<Promise<void>>(std::move(metadata_written))](
                               const Status& leaves_written) {
    if (!leaves_written.has_value()) return promise->Set(leaves_written.error());
    if (process_db) {
      Status merged = CommitAndMerge(store, *process_db);
      if (!merged.has_value()) return promise->Set(merged.error());
    }
    if (!strings->empty()) {
      Status written = store->Write(kStringsFile, AsBytes(strings->dump()), {.atomic = true});
      if (!written.has_value()) return promise->Set(written.error());
    }
    promise->Set(store->Write(kTreeMetadataFile, AsBytes(tree::EncodeTreeMetadata(*metadata)),
                              {.atomic = true}));
  });
  futures.push_back(std::move(metadata_future));
  return futures;
}

Result<tree::TreeMetadata> BasePyTreeHandler::ReadTreeMetadata(const fs::path& directory) const {
  auto store = kvstore::OpenFileStore(directory);
  auto text = store->Read(kTreeMetadataFile, {.max_bytes = 1u << 30});
  if (!text.has_value()) return text.error();
  return tree::ParseTreeMetadata(*text, store->Describe(kTreeMetadataFile));
}

Result<Leaf> BasePyTreeHandler::RestoreLeaf(const fs::path& directory,
                                            const tree::TreeMetadata& metadata,
                                            const std::string& param_name,
                                            const RestoreArgs& args) const {
  const tree::TreeMetadataEntry* entry = metadata.FindByParamName(param_name);
  if (!entry) {
    std::string known;
    for (const auto& e : metadata.entries)
      known += (known.empty() ? "" : ", ") + tree::ParamName(e.keypath);
    return NotFoundError((directory / kTreeMetadataFile).string() + " has no leaf \"" + param_name +
                         "\" (leaves: " + known + ")");
  }
  if (tree::IsEmptyNodeTypestr(entry->value.value_type)) {
    return NotFoundError("\"" + param_name + "\" in " + directory.string() + " is an empty node (" +
                         entry->value.value_type + "), not an array");
  }
  STOWAGE_ASSIGN_OR_RETURN(auto store, OpenArrayStore(directory, &metadata));
  STOWAGE_ASSIGN_OR_RETURN(Tree restored,
                           RestoreEntry(directory, std::move(store), metadata, *entry, args));
  return std::move(restored.leaf());
}

Result<Tree> BasePyTreeHandler::RestoreEntry(const fs::path& directory,
                                             std::shared_ptr<kvstore::Store> store,
                                             const tree::TreeMetadata& metadata,
                                             const tree::TreeMetadataEntry& entry,
                                             const RestoreArgs& args) const {
  const std::string& typestr = entry.value.value_type;
  if (tree::IsEmptyNodeTypestr(typestr)) return tree::EmptyNodeOf(typestr);
  if (typestr == tree::kStringTypestr) {
    STOWAGE_ASSIGN_OR_RETURN(std::string text, ReadStringLeaf(*kvstore::OpenFileStore(directory),
                                                              tree::ParamName(entry.keypath)));
    return Tree(std::move(text));
  }
  if (entry.value.skip_deserialize) {
    return UnsupportedError("leaf \"" + tree::ParamName(entry.keypath) +
                            "\" is stored in the legacy msgpack aggregate file, not supported yet");
  }
  STOWAGE_ASSIGN_OR_RETURN(const tree::TypeHandler* handler,
                           options_.registry->ForTypestr(typestr));
  bool raise_missing = metadata.store_array_data_equal_to_fill_value.value_or(false);
  auto info = MakeParamInfo(std::move(store), entry.keypath, raise_missing);
  info.use_zarr3 = metadata.use_zarr3;
  STOWAGE_ASSIGN_OR_RETURN(Leaf leaf, handler->Deserialize(info, args));
  return Tree(std::move(leaf));
}

Result<Leaf> BasePyTreeHandler::RestoreLegacyLeaf(const fs::path& directory,
                                                  const std::string& name,
                                                  const RestoreArgs& args) const {
  STOWAGE_ASSIGN_OR_RETURN(const tree::TypeHandler* handler,
                           options_.registry->ForTypestr(tree::kNumpyTypestr));
  STOWAGE_ASSIGN_OR_RETURN(auto store, OpenArrayStore(directory, nullptr));
  auto info = MakeParamInfo(std::move(store), {{name}}, true);
  info.use_zarr3 = false;  // no _METADATA: follow what is stored
  return handler->Deserialize(info, args);
}

Result<std::shared_ptr<kvstore::Store>> OpenArrayStore(const fs::path& directory,
                                                       const tree::TreeMetadata* metadata) {
  std::shared_ptr<kvstore::Store> files = kvstore::OpenFileStore(directory);
  STOWAGE_ASSIGN_OR_RETURN(bool ocdbt, kvstore::IsOcdbtDatabase(*files));
  if (!ocdbt) {
    if (metadata && metadata->use_ocdbt.value_or(false)) {
      return NotFoundError((directory / kOcdbtManifestFile).string() +
                           " does not exist, but _METADATA says the arrays are stored in OCDBT");
    }
    return files;
  }
  STOWAGE_ASSIGN_OR_RETURN(auto database, kvstore::OcdbtStore::Open(files));
  return std::shared_ptr<kvstore::Store>(std::move(database));
}

}  // namespace stowage::checkpoint
