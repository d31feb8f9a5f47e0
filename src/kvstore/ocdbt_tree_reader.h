// Reads one version of an OCDBT B+tree: point lookups descend one node per
// level; listings visit only the children whose key range overlaps the
// query. Every node is checked (envelope, CRC, height, key order, keys
// within the range the parent gives it).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "kvstore/ocdbt_format.h"
#include "stowage/kvstore.h"

namespace stowage::kvstore::ocdbt {

// A leaf entry with its full key; indirect values name files relative to
// the database root.
struct KeyValueRef {
  std::string key;
  ValueRef value;
};

class TreeReader {
 public:
  // `root` is the database's prefix in `base`.
  TreeReader(std::shared_ptr<const Store> base, std::string root, Version version);

  // The value reference stored under `key`, or nullopt.
  Result<std::optional<ValueRef>> Find(std::string_view key) const;

  // Calls `visit` for every entry with lo <= key < hi (hi empty: no bound),
  // in key order.
  Status ForEach(std::string_view lo, std::optional<std::string_view> hi,
                 const std::function<Status(KeyValueRef)>& visit) const;

  // The bytes of `ref` (inline, or read from its data file).
  Result<Bytes> ReadValue(const ValueRef& ref, std::uint64_t max_bytes, std::string_view key) const;

  std::string FilePath(const DataFileId& file) const { return root_ + file.FullPath(); }
  std::uint64_t node_reads() const { return node_reads_.load(); }

 private:
  Result<std::shared_ptr<const BtreeNode>> ReadNode(const BtreeNodeRef& ref,
                                                    std::uint8_t expected_height) const;
  Status Visit(const BtreeNode& node, const std::string& prefix, std::string_view lo,
               std::optional<std::string_view> hi,
               const std::function<Status(KeyValueRef)>& visit) const;

  std::shared_ptr<const Store> base_;
  std::string root_;
  Version version_;
  mutable std::mutex cache_mutex_;
  mutable std::map<std::string, std::shared_ptr<const BtreeNode>> cache_;
  mutable std::uint64_t cache_bytes_ = 0;
  mutable std::atomic<std::uint64_t> node_reads_{0};
};

}  // namespace stowage::kvstore::ocdbt
