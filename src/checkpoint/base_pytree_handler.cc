#include "checkpoint/base_pytree_handler.h"

#include <algorithm>
#include <set>
#include <thread>

#include "base/bytes.h"
#include "checkpoint/collective.h"
#include "checkpoint/layout.h"
#include "checkpoint/side_files.h"
#include "checkpoint/string_leaves.h"
#include "kvstore/key.h"
#include "stowage/directory.h"
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

// Orbax's finalize for OCDBT: the root database referencing every
// process's database (ocdbt_utils.merge_ocdbt_per_process_files).
Status MergeProcessDatabases(std::shared_ptr<kvstore::Store> files, int process_count) {
  std::vector<std::string> children;
  for (int p = 0; p < process_count; ++p) children.push_back(ProcessDatabaseRoot(p));
  return kvstore::MergeOcdbtDatabases(std::move(files), children);
}

}  // namespace

BasePyTreeHandler::BasePyTreeHandler(BasePyTreeOptions options) : options_(std::move(options)) {
  if (!options_.coordinator) options_.coordinator = SingleProcessCoordinator();
  if (!options_.registry) {
    options_.registry = std::make_shared<const tree::TypeHandlerRegistry>(
        tree::TypeHandlerRegistry::WithBuiltins().value());
  }
}

tree::ParamInfo BasePyTreeHandler::MakeParamInfo(std::shared_ptr<kvstore::Store> store,
                                                 tree::KeyPath keypath, bool raise_missing) const {
  tree::ParamInfo info;
  info.name = tree::ParamName(keypath);
  info.keypath = std::move(keypath);
  info.store = std::move(store);
  info.use_compression = options_.use_compression;
  info.zstd_checksum = options_.zstd_checksum;
  info.use_zarr3 = options_.use_zarr3;
  info.raise_array_data_missing_error = raise_missing;
  info.process_index = ProcessIndex();
  info.process_count = options_.coordinator->process_count();
  if (options_.use_ocdbt) info.ocdbt_target_data_file_size = options_.ocdbt_target_data_file_size;
  info.max_default_chunk_bytes = options_.max_default_chunk_bytes;
  info.io = options_.io;
  return info;
}

// Everything a save writes after its arrays, gathered while they are written.
struct BasePyTreeHandler::SideFiles {
  nlohmann::json strings = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> shardings;
  std::vector<ArrayMetadataRecord> array_metadatas;
  tree::TreeMetadata tree;

  void Record(const std::string& name, const tree::SavedLeafMetadata& saved) {
    if (!saved.sharding.empty()) shardings.emplace_back(name, saved.sharding);
    if (saved.write_shape && saved.chunk_shape) {
      array_metadatas.push_back({name, *saved.write_shape, *saved.chunk_shape});
    }
  }

  // This process's `array_metadatas/process_<process>` (every process).
  Status WriteArrayMetadatas(kvstore::Store& store, int process) const {
    if (array_metadatas.empty()) return OkStatus();
    return store.Write(ArrayMetadatasKey(process), AsBytes(EncodeArrayMetadatas(array_metadatas)),
                       {.atomic = true});
  }

  // The primary's files, in Orbax's order: `_sharding` (during serialization
  // there), `_strings.json`, and `_METADATA` last.
  Status WritePrimaryFiles(kvstore::Store& store) const {
    if (!shardings.empty()) {
      STOWAGE_RETURN_IF_ERROR(
          store.Write(kShardingFile, AsBytes(EncodeShardingFile(shardings)), {.atomic = true}));
    }
    if (!strings.empty()) {
      STOWAGE_RETURN_IF_ERROR(store.Write(kStringsFile, AsBytes(strings.dump()), {.atomic = true}));
    }
    return store.Write(kTreeMetadataFile, AsBytes(tree::EncodeTreeMetadata(tree)),
                       {.atomic = true});
  }
};

// The type handler of every leaf (nullptr for strings and empty nodes), so
// that nothing is written when one leaf cannot be saved.
Result<std::vector<const tree::TypeHandler*>> BasePyTreeHandler::ResolveHandlers(
    const std::vector<LeafToSave>& leaves) const {
  std::vector<const tree::TypeHandler*> handlers;
  for (const auto& leaf : leaves) {
    bool by_registry =
        leaf.empty_node_typestr.empty() &&
        (!std::holds_alternative<std::string>(leaf.value) || !leaf.args.value_type.empty());
    if (!by_registry) {
      handlers.push_back(nullptr);
      continue;
    }
    auto handler = options_.registry->ForLeaf(leaf.value, leaf.args, options_.array_value_type);
    if (!handler.has_value()) {
      return handler.error().WithContext("leaf \"" + tree::ParamName(leaf.keypath) + "\"");
    }
    handlers.push_back(*handler);
  }
  return handlers;
}

namespace {

// On an object store, OCDBT data files are closed at this size, so that each
// goes up as one PUT (under the S3 store's default multipart threshold, 64
// MiB, with room for a 16 MiB chunk past it) while the next is being filled:
// many uploads in flight, and no server-side assembly of one huge object.
constexpr std::uint64_t kObjectStoreDataFileBytes = std::uint64_t{32} << 20;

kvstore::OcdbtOptions DatabaseOptionsFor(const fs::path& directory) {
  kvstore::OcdbtOptions options;
  if (kvstore::IsObjectStoreUrl(directory)) {
    options.target_data_file_size = kObjectStoreDataFileBytes;
  }
  return options;
}

}  // namespace

Result<std::vector<Future<void>>> BasePyTreeHandler::AsyncSave(
    const fs::path& directory, std::vector<LeafToSave> leaves,
    nlohmann::ordered_json custom_metadata) {
  auto started = StartSave(directory, std::move(leaves), std::move(custom_metadata));
  if (started.has_value() || options_.coordinator->process_count() == 1) return started;
  // Still take part in the collective steps, so the others learn of it.
  std::vector<Future<void>> failed = {Future<void>::Ready(started.error())};
  return std::vector<Future<void>>{FinishSave(failed, nullptr, nullptr, nullptr)};
}

Result<std::vector<Future<void>>> BasePyTreeHandler::StartSave(
    const fs::path& directory, std::vector<LeafToSave> leaves,
    nlohmann::ordered_json custom_metadata) {
  STOWAGE_RETURN_IF_ERROR(ValidateLeaves(leaves));
  STOWAGE_ASSIGN_OR_RETURN(auto handlers, ResolveHandlers(leaves));
  auto side = std::make_shared<SideFiles>();
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (handlers[i] || !leaves[i].empty_node_typestr.empty()) continue;
    STOWAGE_RETURN_IF_ERROR(AddStringLeaf(side->strings, tree::ParamName(leaves[i].keypath),
                                          std::get<std::string>(leaves[i].value)));
  }
  STOWAGE_ASSIGN_OR_RETURN(std::shared_ptr<kvstore::Store> store,
                           kvstore::OpenDirectory(directory, options_.file));
  std::shared_ptr<kvstore::OcdbtStore> process_db;
  if (options_.use_ocdbt) {
    STOWAGE_ASSIGN_OR_RETURN(auto opened,
                             kvstore::OcdbtStore::Open(store, ProcessDatabaseRoot(ProcessIndex()),
                                                       DatabaseOptionsFor(directory)));
    process_db = std::move(opened);
  }
  std::shared_ptr<kvstore::Store> array_store =
      process_db ? std::shared_ptr<kvstore::Store>(process_db) : store;
  tree::TreeMetadata& metadata = side->tree;
  metadata.use_ocdbt = options_.use_ocdbt;
  metadata.use_zarr3 = options_.use_zarr3;
  metadata.store_array_data_equal_to_fill_value = true;
  metadata.custom_metadata = std::move(custom_metadata);
  std::vector<Future<void>> futures;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    LeafToSave& leaf = leaves[i];
    if (!leaf.empty_node_typestr.empty()) {  // recorded, no data (Orbax empty_values.py)
      metadata.entries.push_back({leaf.keypath, {leaf.empty_node_typestr, true, {}}});
      continue;
    }
    if (handlers[i] == nullptr) {  // in _strings.json (Orbax StringHandler)
      metadata.entries.push_back({leaf.keypath, {std::string(tree::kStringTypestr), false, {}}});
      continue;
    }
    auto info = MakeParamInfo(array_store, leaf.keypath, true);
    auto written = handlers[i]->Serialize(info, std::move(leaf.value), leaf.args);
    if (!written.has_value()) {
      (void)WaitAll(futures);  // let started writes finish before the caller cleans up
      return written.error().WithContext("leaf \"" + info.name + "\"");
    }
    metadata.entries.push_back(
        {leaf.keypath,
         {std::string(handlers[i]->typestr()), false, written->metadata.write_shape}});
    side->Record(info.name, written->metadata);
    futures.push_back(std::move(written->written));
  }
  futures.push_back(FinishSave(futures, store, process_db, side));
  return futures;
}

// Once every leaf is written: this process commits its OCDBT database and
// writes its array metadata; all processes agree that all succeeded; the
// primary merges the databases and writes the side files, `_METADATA`
// last (Orbax _write_metadata_after_commits, finalize); all learn the
// outcome. The collective steps run on a thread of their own, so that they
// never block the worker pool.
Future<void> BasePyTreeHandler::FinishSave(const std::vector<Future<void>>& leaves_written,
                                           std::shared_ptr<kvstore::Store> store,
                                           std::shared_ptr<kvstore::OcdbtStore> process_db,
                                           std::shared_ptr<const SideFiles> side) {
  auto promise = std::make_shared<Promise<void>>();
  Future<void> finished = promise->future();
  std::optional<Future<void>> previous;
  {
    std::lock_guard lock(finish_mutex_);
    previous = std::exchange(last_finish_, finished);
  }
  std::thread([written = WhenAll(leaves_written), store, process_db, side, promise, previous,
               coordinator = options_.coordinator,
               timeout = options_.collective_timeout]() mutable {
    Status local = written.Wait();
    // Saves started one after another take their collective steps in the
    // same order on every process.
    if (previous) (void)previous->Wait();
    int process = coordinator->process_index();
    if (local.has_value() && process_db) local = process_db->Commit();
    if (local.has_value()) local = side->WriteArrayMetadatas(*store, process);
    Status all = AgreeOnStatus(*coordinator, "write_complete", local, timeout);
    Status primary = all;
    if (process == kPrimaryProcess && all.has_value()) {
      if (process_db) primary = MergeProcessDatabases(store, coordinator->process_count());
      if (primary.has_value()) primary = side->WritePrimaryFiles(*store);
    }
    if (all.has_value()) primary = ShareFromPrimary(*coordinator, "finalize", primary, timeout);
    coordinator.reset();  // before the caller can learn the outcome (and, say, end MPI)
    promise->Set(std::move(primary));
  }).detach();
  return finished;
}

Result<tree::TreeMetadata> BasePyTreeHandler::ReadTreeMetadata(const fs::path& directory) const {
  STOWAGE_ASSIGN_OR_RETURN(auto store, kvstore::OpenDirectory(directory));
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
    STOWAGE_ASSIGN_OR_RETURN(auto files, kvstore::OpenDirectory(directory));
    STOWAGE_ASSIGN_OR_RETURN(std::string text,
                             ReadStringLeaf(*files, tree::ParamName(entry.keypath)));
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
  STOWAGE_ASSIGN_OR_RETURN(std::shared_ptr<kvstore::Store> files,
                           kvstore::OpenDirectory(directory));
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
