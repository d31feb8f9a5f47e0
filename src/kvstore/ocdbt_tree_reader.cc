#include "kvstore/ocdbt_tree_reader.h"

#include <algorithm>

namespace stowage::kvstore::ocdbt {
namespace {

// The cache is emptied when it holds more than this many encoded bytes.
constexpr std::uint64_t kNodeCacheBytes = std::uint64_t{64} << 20;

std::string CacheKey(const IndirectRef& ref) {
  return ref.file.FullPath() + '\0' + std::to_string(ref.offset) + ':' + std::to_string(ref.length);
}

// Index of the last child whose key is <= `key`, or -1.
std::ptrdiff_t LastChildAtOrBefore(const BtreeNode& node, std::string_view key) {
  auto it = std::upper_bound(node.children.begin(), node.children.end(), key,
                             [](std::string_view k, const InteriorEntry& e) { return k < e.key; });
  return (it - node.children.begin()) - 1;
}

}  // namespace

TreeReader::TreeReader(std::shared_ptr<const Store> base, std::string root, Version version)
    : base_(std::move(base)), root_(std::move(root)), version_(std::move(version)) {}

Result<std::shared_ptr<const BtreeNode>> TreeReader::ReadNode(const BtreeNodeRef& ref,
                                                              std::uint8_t expected_height) const {
  std::string path = FilePath(ref.location.file);
  auto check_height =
      [&](std::shared_ptr<const BtreeNode> node) -> Result<std::shared_ptr<const BtreeNode>> {
    if (node->height != expected_height) {
      return DataLossError(base_->Describe(path) + " at offset " +
                           std::to_string(ref.location.offset) + ": B+tree node has height " +
                           std::to_string(node->height) + ", expected " +
                           std::to_string(expected_height));
    }
    return node;
  };
  std::string cache_key = CacheKey(ref.location);
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(cache_key); it != cache_.end()) return check_height(it->second);
  }
  if (ref.location.length > kMaxDecodedObjectBytes) {
    return DataLossError(base_->Describe(path) + ": B+tree node of " +
                         std::to_string(ref.location.length) + " bytes exceeds the limit");
  }
  ++node_reads_;
  STOWAGE_ASSIGN_OR_RETURN(Bytes encoded,
                           base_->ReadRange(path, ref.location.offset, ref.location.length));
  std::string where = base_->Describe(path) + " at offset " + std::to_string(ref.location.offset);
  STOWAGE_ASSIGN_OR_RETURN(BtreeNode node,
                           DecodeBtreeNode(encoded, ref.location.file.base_path, where));
  auto shared = std::make_shared<const BtreeNode>(std::move(node));
  std::lock_guard lock(cache_mutex_);
  if (cache_bytes_ + ref.location.length > kNodeCacheBytes) {
    cache_.clear();
    cache_bytes_ = 0;
  }
  if (cache_.emplace(cache_key, shared).second) cache_bytes_ += ref.location.length;
  return check_height(std::move(shared));
}

Result<std::optional<ValueRef>> TreeReader::Find(std::string_view key) const {
  if (version_.root.location.IsMissing()) return std::optional<ValueRef>();
  STOWAGE_ASSIGN_OR_RETURN(auto node, ReadNode(version_.root, version_.root_height));
  std::string_view rest = key;
  while (node->height > 0) {
    std::ptrdiff_t i = LastChildAtOrBefore(*node, rest);
    if (i < 0) return std::optional<ValueRef>();
    const InteriorEntry& entry = node->children[i];
    std::string_view common =
        std::string_view(entry.key).substr(0, entry.subtree_common_prefix_length);
    if (!rest.starts_with(common)) return std::optional<ValueRef>();
    rest.remove_prefix(common.size());
    STOWAGE_ASSIGN_OR_RETURN(node, ReadNode(entry.child, node->height - 1));
  }
  auto it = std::lower_bound(node->leaves.begin(), node->leaves.end(), rest,
                             [](const LeafEntry& e, std::string_view k) { return e.key < k; });
  if (it == node->leaves.end() || it->key != rest) return std::optional<ValueRef>();
  return std::optional<ValueRef>(it->value);
}

Status TreeReader::ForEach(std::string_view lo, std::optional<std::string_view> hi,
                           const std::function<Status(KeyValueRef)>& visit) const {
  if (version_.root.location.IsMissing()) return OkStatus();
  STOWAGE_ASSIGN_OR_RETURN(auto node, ReadNode(version_.root, version_.root_height));
  return Visit(*node, "", lo, hi, visit);
}

Status TreeReader::Visit(const BtreeNode& node, const std::string& prefix, std::string_view lo,
                         std::optional<std::string_view> hi,
                         const std::function<Status(KeyValueRef)>& visit) const {
  if (node.height == 0) {
    for (const auto& entry : node.leaves) {
      std::string key = prefix + entry.key;
      if (key < lo) continue;
      if (hi && key >= *hi) break;
      STOWAGE_RETURN_IF_ERROR(visit({std::move(key), entry.value}));
    }
    return OkStatus();
  }
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    const InteriorEntry& entry = node.children[i];
    std::string first = prefix + entry.key;
    if (hi && first >= *hi) break;
    if (i + 1 < node.children.size() && prefix + node.children[i + 1].key <= lo) continue;
    STOWAGE_ASSIGN_OR_RETURN(auto child, ReadNode(entry.child, node.height - 1));
    std::string child_prefix = prefix + entry.key.substr(0, entry.subtree_common_prefix_length);
    const std::string& child_first =
        child->height == 0 ? child->leaves.front().key : child->children.front().key;
    if (child_prefix + child_first < first) {
      return DataLossError(FilePath(entry.child.location.file) + ": B+tree node starts at key \"" +
                           child_prefix + child_first + "\", before its parent's key \"" + first +
                           "\"");
    }
    STOWAGE_RETURN_IF_ERROR(Visit(*child, child_prefix, lo, hi, visit));
  }
  return OkStatus();
}

Result<Bytes> TreeReader::ReadValue(const ValueRef& ref, std::uint64_t max_bytes,
                                    std::string_view key) const {
  if (const auto* bytes = std::get_if<Bytes>(&ref)) {
    if (bytes->size() > max_bytes) {
      return DataLossError("OCDBT key \"" + std::string(key) + "\" holds " +
                           std::to_string(bytes->size()) + " bytes, more than the " +
                           std::to_string(max_bytes) + " expected");
    }
    return *bytes;
  }
  const auto& indirect = std::get<IndirectRef>(ref);
  std::string path = FilePath(indirect.file);
  if (indirect.length > max_bytes) {
    return DataLossError(base_->Describe(path) + ": OCDBT key \"" + std::string(key) + "\" holds " +
                         std::to_string(indirect.length) + " bytes, more than the " +
                         std::to_string(max_bytes) + " expected");
  }
  auto value = base_->ReadRange(path, indirect.offset, indirect.length);
  if (!value) {
    return Error(value.error().code(),
                 value.error().message() + " (value of OCDBT key \"" + std::string(key) + "\")");
  }
  return std::move(*value);
}

}  // namespace stowage::kvstore::ocdbt
