// OcdbtStore: the Store view of one OCDBT database. Reads go through a
// TreeReader of the latest generation; writes are staged (large values
// appended to a data file at once, small ones kept for the node) and
// Commit rebuilds the tree, appends the nodes to the data file, and replaces
// the manifest atomically.
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "kvstore/ocdbt_tree_reader.h"
#include "kvstore/ocdbt_tree_writer.h"
#include "kvstore/ocdbt_version_tree.h"
#include "stowage/ocdbt.h"

namespace stowage::kvstore {
namespace {

using namespace ocdbt;  // NOLINT: the format's vocabulary

constexpr std::string_view kManifestName = "manifest.ocdbt";
constexpr std::string_view kDataPrefix = "d/";

std::string RandomHex(std::size_t bytes) {
  static std::mutex mutex;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mutex);
  std::string hex;
  for (std::size_t i = 0; i < bytes; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof(pair), "%02x", static_cast<unsigned>(rng() & 0xff));
    hex += pair;
  }
  return hex;
}

std::uint64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The smallest string greater than every string starting with `prefix`.
std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Config NewConfig(const OcdbtOptions& options) {
  Config config;
  for (auto& byte : config.uuid) byte = static_cast<std::uint8_t>(std::random_device{}());
  config.max_inline_value_bytes = options.max_inline_value_bytes;
  config.max_decoded_node_bytes = options.max_decoded_node_bytes;
  config.version_tree_arity_log2 = options.version_tree_arity_log2;
  config.zstd_level = options.zstd_level;
  return config;
}

// A data file values and nodes are appended to. Once retired (full), it
// is closed by the last append still in flight into it, so that its upload
// (on an object store) overlaps the appends to the next one.
struct OpenDataFile {
  DataFileId id;
  std::unique_ptr<AppendWriter> writer;
  int appends_in_flight = 0;  // guarded by files_mutex_
  bool retired = false;
  bool closed = false;
  Status close_status = OkStatus();
};

class OcdbtStoreImpl final : public OcdbtStore {
 public:
  OcdbtStoreImpl(std::shared_ptr<Store> base, std::string root, OcdbtOptions options,
                 std::optional<Manifest> manifest, bool numbered)
      : numbered_(numbered),
        base_(std::move(base)),
        root_(std::move(root)),
        options_(options),
        config_(manifest ? manifest->config : NewConfig(options)),
        manifest_(std::move(manifest)) {
    reader_ = MakeReader();
  }

  Result<Bytes> Read(std::string_view key, ReadOptions options) const override {
    auto reader = CurrentReader();
    STOWAGE_ASSIGN_OR_RETURN(auto found, reader->Find(key));
    if (!found) return NotFoundError(Describe(key) + " does not exist");
    return reader->ReadValue(*found, options.max_bytes, key);
  }

  Status Write(std::string_view key, std::span<const std::byte> value, WriteOptions) override {
    if (key.size() > kMaxKeyLength) {
      return InvalidArgumentError("OCDBT keys are at most 65535 bytes; got " +
                                  std::to_string(key.size()));
    }
    ValueRef ref;
    if (value.size() <= config_.max_inline_value_bytes) {
      ref = Bytes(value.begin(), value.end());
    } else {
      STOWAGE_ASSIGN_OR_RETURN(ref, AppendValue(value));
    }
    std::lock_guard lock(pending_mutex_);
    pending_[std::string(key)] = std::move(ref);
    return OkStatus();
  }

  Status Delete(std::string_view key) override {
    std::lock_guard lock(pending_mutex_);
    pending_[std::string(key)] = std::nullopt;
    return OkStatus();
  }

  Result<bool> Exists(std::string_view key) const override {
    STOWAGE_ASSIGN_OR_RETURN(auto found, CurrentReader()->Find(key));
    return found.has_value();
  }

  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    std::vector<std::string> keys;
    auto end = PrefixEnd(prefix);
    STOWAGE_RETURN_IF_ERROR(CurrentReader()->ForEach(
        prefix, end ? std::optional<std::string_view>(*end) : std::nullopt, [&](KeyValueRef entry) {
          keys.push_back(std::move(entry.key));
          return OkStatus();
        }));
    return keys;
  }

  std::string Describe(std::string_view key) const override {
    return base_->Describe(root_ + std::string(kManifestName)) + " key \"" + std::string(key) +
           "\"";
  }

  Status Commit() override;
  OcdbtSummary Summary() const override;
  Result<std::vector<OcdbtEntryInfo>> ListEntries(std::string_view prefix) const override;
  Result<std::vector<std::string>> DataFiles() const override;
  std::uint64_t node_reads() const override { return CurrentReader()->node_reads(); }

  // Calls `visit` for every entry of the latest generation, in key order.
  Status ForEachEntry(const std::function<Status(KeyValueRef)>& visit) const {
    return CurrentReader()->ForEach("", std::nullopt, visit);
  }

  // Stages a value that already lives somewhere (used by the merge).
  void StageReference(std::string key, ValueRef ref) {
    std::lock_guard lock(pending_mutex_);
    pending_[std::move(key)] = std::move(ref);
  }

 private:
  std::shared_ptr<TreeReader> MakeReader() const {
    Version version =
        manifest_ ? manifest_->latest() : Version{0, 0, {IndirectRef::Missing(), {}}, 0};
    return std::make_shared<TreeReader>(base_, root_, version);
  }

  std::shared_ptr<TreeReader> CurrentReader() const {
    std::lock_guard lock(state_mutex_);
    return reader_;
  }

  // The data file to append to (counted as in flight until FinishAppend),
  // opening a new one when there is none or the current one has reached the
  // target size. A full file without appends in flight is returned in
  // `to_close`.
  Result<std::shared_ptr<OpenDataFile>> StartAppend(std::shared_ptr<OpenDataFile>& to_close) {
    std::lock_guard lock(files_mutex_);
    if (current_ && current_->writer->size() >= options_.target_data_file_size) {
      current_->retired = true;
      if (current_->appends_in_flight == 0) to_close = current_;
      retired_.push_back(std::move(current_));
    }
    if (!current_) {
      auto file = std::make_shared<OpenDataFile>();
      file->id = DataFileId{"", std::string(kDataPrefix) + RandomHex(16)};
      STOWAGE_ASSIGN_OR_RETURN(file->writer, base_->OpenAppend(root_ + file->id.FullPath()));
      current_ = std::move(file);
    }
    ++current_->appends_in_flight;
    return current_;
  }

  // Ends an append into `file`; true when it was the last one into a full file.
  bool FinishAppend(OpenDataFile& file) {
    std::lock_guard lock(files_mutex_);
    return --file.appends_in_flight == 0 && file.retired;
  }

  // Closes a retired file no append uses any more (once).
  void CloseRetired(OpenDataFile& file) {
    Status status = file.writer->Close();
    std::lock_guard lock(files_mutex_);
    file.close_status = std::move(status);
    file.closed = true;
  }

  Result<IndirectRef> AppendValue(std::span<const std::byte> value) {
    std::shared_ptr<OpenDataFile> to_close;
    auto file = StartAppend(to_close);
    if (to_close) CloseRetired(*to_close);
    STOWAGE_RETURN_IF_ERROR(file);
    auto offset = (*file)->writer->Append(value);
    if (FinishAppend(**file)) CloseRetired(**file);
    STOWAGE_RETURN_IF_ERROR(offset);
    return IndirectRef{(*file)->id, *offset, value.size()};
  }

  // Closes every data file not closed yet (no append is in flight: Commit
  // follows the writes) and returns the first failure of any close.
  Status CloseDataFiles() {
    std::lock_guard lock(files_mutex_);
    if (current_) retired_.push_back(std::move(current_));
    Status status = OkStatus();
    for (auto& file : retired_) {
      Status closed = file->closed ? file->close_status : file->writer->Close();
      if (status.has_value() && !closed.has_value()) status = closed;
    }
    retired_.clear();
    return status;
  }

  Result<std::vector<KeyValueRef>> MergedEntries(
      std::map<std::string, std::optional<ValueRef>>& pending) const;
  Result<VersionNode> ReadVersionNode(const VersionNodeRef& ref) const;

  bool numbered_;  // manifests are `manifest.<generation>` files (read only)
  std::shared_ptr<Store> base_;
  std::string root_;
  OcdbtOptions options_;
  Config config_;

  mutable std::mutex state_mutex_;  // guards manifest_ and reader_
  std::optional<Manifest> manifest_;
  std::shared_ptr<TreeReader> reader_;

  std::mutex pending_mutex_;
  std::map<std::string, std::optional<ValueRef>> pending_;

  std::mutex files_mutex_;
  std::shared_ptr<OpenDataFile> current_;
  std::vector<std::shared_ptr<OpenDataFile>> retired_;

  std::mutex commit_mutex_;
};

Result<std::vector<KeyValueRef>> OcdbtStoreImpl::MergedEntries(
    std::map<std::string, std::optional<ValueRef>>& pending) const {
  std::vector<KeyValueRef> merged;
  auto next = pending.begin();
  auto flush_pending_before = [&](const std::string* key) {
    for (; next != pending.end() && (key == nullptr || next->first < *key); ++next) {
      if (next->second) merged.push_back({next->first, *next->second});
    }
  };
  STOWAGE_RETURN_IF_ERROR(CurrentReader()->ForEach("", std::nullopt, [&](KeyValueRef entry) {
    flush_pending_before(&entry.key);
    if (next != pending.end() && next->first == entry.key) {
      if (next->second) merged.push_back({next->first, *next->second});
      ++next;
    } else {
      merged.push_back(std::move(entry));
    }
    return OkStatus();
  }));
  flush_pending_before(nullptr);
  return merged;
}

Result<VersionNode> OcdbtStoreImpl::ReadVersionNode(const VersionNodeRef& ref) const {
  std::string path = root_ + ref.location.file.FullPath();
  STOWAGE_ASSIGN_OR_RETURN(Bytes encoded,
                           base_->ReadRange(path, ref.location.offset, ref.location.length));
  return DecodeVersionNode(
      encoded, ref.location.file.base_path,
      base_->Describe(path) + " at offset " + std::to_string(ref.location.offset));
}

Status OcdbtStoreImpl::Commit() {
  if (numbered_) {
    return UnsupportedError(Describe("") +
                            ": committing to a database of the numbered manifest kind is not "
                            "supported (stowage writes the single kind, as Orbax configures)");
  }
  std::lock_guard commit_lock(commit_mutex_);
  std::map<std::string, std::optional<ValueRef>> pending;
  {
    std::lock_guard lock(pending_mutex_);
    pending.swap(pending_);
  }
  if (pending.empty() && manifest_) return CloseDataFiles();
  auto committed = [&]() -> Status {
    STOWAGE_ASSIGN_OR_RETURN(auto entries, MergedEntries(pending));
    NodeSink sink = [&](std::span<const std::byte> encoded) -> Result<IndirectRef> {
      return AppendValue(encoded);
    };
    STOWAGE_ASSIGN_OR_RETURN(TreeRoot root, WriteTree(config_, std::move(entries), sink));
    Manifest manifest = manifest_ ? *manifest_ : Manifest{config_, {}, {}};
    std::uint64_t previous_time = manifest_ ? manifest_->latest().commit_time : 0;
    Version version{manifest_ ? manifest_->latest().generation + 1 : 1, root.height, root.ref,
                    std::max(NowNs(), previous_time + 1)};
    STOWAGE_RETURN_IF_ERROR(AppendVersion(
        manifest, std::move(version),
        [&](const VersionNodeRef& ref) { return ReadVersionNode(ref); }, sink));
    STOWAGE_RETURN_IF_ERROR(CloseDataFiles());
    STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, EncodeManifest(manifest));
    STOWAGE_RETURN_IF_ERROR(
        base_->Write(root_ + std::string(kManifestName), encoded, {.atomic = true}));
    std::lock_guard lock(state_mutex_);
    manifest_ = std::move(manifest);
    reader_ = MakeReader();
    return OkStatus();
  }();
  if (!committed.has_value()) {
    std::lock_guard lock(pending_mutex_);
    pending_.merge(pending);  // restage; stagings made since take precedence
  }
  return committed;
}

OcdbtSummary OcdbtStoreImpl::Summary() const {
  std::lock_guard lock(state_mutex_);
  OcdbtSummary summary;
  summary.max_inline_value_bytes = config_.max_inline_value_bytes;
  summary.max_decoded_node_bytes = config_.max_decoded_node_bytes;
  summary.zstd_level = config_.zstd_level;
  if (!manifest_) return summary;
  const Version& latest = manifest_->latest();
  summary.generation = latest.generation;
  summary.commit_time_ns = latest.commit_time;
  summary.root_height = latest.root_height;
  summary.num_keys = latest.root.statistics.num_keys;
  summary.num_tree_bytes = latest.root.statistics.num_tree_bytes;
  summary.num_indirect_value_bytes = latest.root.statistics.num_indirect_value_bytes;
  summary.num_version_tree_nodes = manifest_->version_tree_nodes.size();
  return summary;
}

Result<std::vector<OcdbtEntryInfo>> OcdbtStoreImpl::ListEntries(std::string_view prefix) const {
  std::vector<OcdbtEntryInfo> entries;
  auto end = PrefixEnd(prefix);
  STOWAGE_RETURN_IF_ERROR(CurrentReader()->ForEach(
      prefix, end ? std::optional<std::string_view>(*end) : std::nullopt, [&](KeyValueRef entry) {
        OcdbtEntryInfo info{std::move(entry.key)};
        if (const auto* ref = std::get_if<IndirectRef>(&entry.value)) {
          info = {std::move(info.key), ref->length, false, ref->file.FullPath(), ref->offset};
        } else {
          info.size = std::get<Bytes>(entry.value).size();
        }
        entries.push_back(std::move(info));
        return OkStatus();
      }));
  return entries;
}

Result<std::vector<std::string>> OcdbtStoreImpl::DataFiles() const {
  std::set<std::string> files;
  STOWAGE_ASSIGN_OR_RETURN(auto entries, ListEntries(""));
  for (const auto& entry : entries) {
    if (!entry.is_inline) files.insert(entry.data_file);
  }
  std::lock_guard lock(state_mutex_);
  if (manifest_ && !manifest_->latest().root.location.IsMissing()) {
    files.insert(manifest_->latest().root.location.file.FullPath());
  }
  return std::vector<std::string>(files.begin(), files.end());
}

// The newest `manifest.<16 hex>` of a database of the numbered kind, which
// is a whole manifest whose latest generation is the number in its name.
Result<Manifest> ReadNumberedManifest(const Store& base, const std::string& root) {
  STOWAGE_ASSIGN_OR_RETURN(auto keys, base.List(root + "manifest."));
  std::string newest;
  for (const auto& key : keys) {
    std::string_view name = std::string_view(key).substr(root.size());
    if (name.size() == 25 && name.find_first_not_of("0123456789abcdef", 9) == std::string::npos &&
        key > newest) {
      newest = key;
    }
  }
  if (newest.empty()) {
    return NotFoundError(base.Describe(root + "manifest.ocdbt") +
                         " is of the numbered kind, but no manifest.<generation> file exists");
  }
  STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, base.Read(newest, {kMaxDecodedObjectBytes}));
  STOWAGE_ASSIGN_OR_RETURN(Manifest manifest, DecodeManifest(encoded, base.Describe(newest)));
  std::uint64_t named = std::stoull(newest.substr(newest.size() - 16), nullptr, 16);
  if (manifest.config.manifest_kind != ManifestKind::kSingle || manifest.versions.empty() ||
      manifest.latest().generation != named) {
    return DataLossError(base.Describe(newest) + ": does not hold generation " +
                         std::to_string(named) + " as its latest");
  }
  return manifest;
}

}  // namespace

Result<std::unique_ptr<OcdbtStore>> OcdbtStore::Open(std::shared_ptr<Store> base, std::string root,
                                                     OcdbtOptions options) {
  if (!root.empty() && root.back() != '/') root += '/';
  std::string manifest_key = root + std::string(kManifestName);
  auto encoded = base->Read(manifest_key, {kMaxDecodedObjectBytes});
  std::optional<Manifest> manifest;
  bool numbered = false;
  if (encoded) {
    STOWAGE_ASSIGN_OR_RETURN(manifest, DecodeManifest(*encoded, base->Describe(manifest_key)));
    if (manifest->config.manifest_kind == ManifestKind::kNumbered) {
      STOWAGE_ASSIGN_OR_RETURN(manifest, ReadNumberedManifest(*base, root));
      numbered = true;
    }
  } else if (encoded.error().code() != ErrorCode::kNotFound) {
    return encoded.error();
  }
  return std::unique_ptr<OcdbtStore>(
      new OcdbtStoreImpl(std::move(base), std::move(root), options, std::move(manifest), numbered));
}

Result<bool> IsOcdbtDatabase(const Store& base, std::string_view root) {
  std::string prefix(root);
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return base.Exists(prefix + std::string(kManifestName));
}

Status MergeOcdbtDatabases(std::shared_ptr<Store> base, std::span<const std::string> child_roots,
                           std::string root, OcdbtOptions options) {
  if (!root.empty() && root.back() != '/') root += '/';
  std::map<std::string, ValueRef> merged;
  for (std::string child : child_roots) {
    if (!child.empty() && child.back() != '/') child += '/';
    if (!child.starts_with(root) || child == root) {
      return InvalidArgumentError("OCDBT database \"" + child + "\" is not inside \"" + root +
                                  "\"");
    }
    std::string relative = child.substr(root.size());
    STOWAGE_ASSIGN_OR_RETURN(auto store, OcdbtStore::Open(base, child, options));
    STOWAGE_RETURN_IF_ERROR(
        static_cast<OcdbtStoreImpl&>(*store).ForEachEntry([&](KeyValueRef entry) -> Status {
          if (auto* ref = std::get_if<IndirectRef>(&entry.value)) {
            ref->file.base_path = relative + ref->file.base_path;
          }
          if (!merged.emplace(entry.key, std::move(entry.value)).second) {
            return InvalidArgumentError("key \"" + entry.key + "\" is in more than one of the " +
                                        "databases merged into " + base->Describe(root));
          }
          return OkStatus();
        }));
  }
  STOWAGE_ASSIGN_OR_RETURN(auto parent, OcdbtStore::Open(base, root, options));
  auto& impl = static_cast<OcdbtStoreImpl&>(*parent);
  for (auto& [key, value] : merged) impl.StageReference(key, std::move(value));
  return parent->Commit();
}

}  // namespace stowage::kvstore
