#include "kvstore/ocdbt_tree_writer.h"

#include <algorithm>

#include "kvstore/ocdbt_codec.h"

namespace stowage::kvstore::ocdbt {
namespace {

// A node written at the level below, as its parent refers to it.
struct WrittenNode {
  std::string first_key;
  std::size_t excluded_prefix = 0;
  BtreeNodeRef ref;
};

std::uint64_t EstimatedSize(const KeyValueRef& entry) {
  if (const auto* ref = std::get_if<IndirectRef>(&entry.value)) {
    return entry.key.size() + 16 + 16 + ref->file.base_path.size() + ref->file.relative_path.size();
  }
  return entry.key.size() + 16 + std::get<Bytes>(entry.value).size();
}

std::uint64_t EstimatedSize(const WrittenNode& node) {
  return node.first_key.size() + 56 + node.ref.location.file.base_path.size() +
         node.ref.location.file.relative_path.size();
}

const std::string& KeyOf(const KeyValueRef& entry) { return entry.key; }
const std::string& KeyOf(const WrittenNode& node) { return node.first_key; }

// Where TensorStore's BtreeNodeEncoder::Finalize splits `entries` into nodes.
template <typename Entry>
std::vector<std::pair<std::size_t, std::size_t>> SplitPoints(const std::vector<Entry>& entries,
                                                             std::uint64_t max_node_bytes,
                                                             std::size_t min_entries) {
  const std::size_t n = entries.size();
  std::vector<std::uint64_t> cumulative(n);
  std::size_t common = KeyOf(entries[0]).size();
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    total += EstimatedSize(entries[i]);
    cumulative[i] = total;
    if (i > 0)
      common = std::min(common, CommonPrefixLength(KeyOf(entries[i - 1]), KeyOf(entries[i])));
  }
  auto size = [&](std::size_t s, std::size_t e) {
    return cumulative[e - 1] - (s == 0 ? 0 : cumulative[s - 1]) - (e - s - 1) * common;
  };
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (std::size_t s = 0; s < n;) {
    std::uint64_t remaining = size(s, n);
    std::uint64_t nodes = (n - s + kMaxNodeArity - 1) / kMaxNodeArity;
    if (max_node_bytes != 0)
      nodes = std::max(nodes, (remaining + max_node_bytes - 1) / max_node_bytes);
    std::uint64_t target = (remaining + nodes - 1) / nodes;
    std::size_t e = s + 1;
    for (; e < n; ++e) {
      if (e - s >= kMaxNodeArity) break;
      if (size(s, e) >= target && e - s >= min_entries) {
        if (max_node_bytes != 0 && size(s, e) > max_node_bytes && e - s > min_entries) --e;
        break;
      }
    }
    ranges.emplace_back(s, e);
    s = e;
  }
  return ranges;
}

class TreeBuilder {
 public:
  TreeBuilder(const Config& config, const NodeSink& sink) : config_(config), sink_(sink) {}

  // Encodes entries[s, e) as one node; `is_root` nodes keep full keys.
  Result<WrittenNode> WriteLeaf(std::vector<KeyValueRef>& entries, std::size_t s, std::size_t e,
                                bool is_root) {
    std::size_t excluded = is_root ? 0 : CommonPrefixLength(entries[s].key, entries[e - 1].key);
    BtreeNode node;
    BtreeStatistics stats;
    stats.num_keys = e - s;
    for (std::size_t i = s; i < e; ++i) {
      if (const auto* ref = std::get_if<IndirectRef>(&entries[i].value)) {
        stats.num_indirect_value_bytes += ref->length;
      }
      node.leaves.push_back({entries[i].key.substr(excluded), std::move(entries[i].value)});
    }
    return Finish(node, std::move(entries[s].key), excluded, stats);
  }

  Result<WrittenNode> WriteInterior(std::vector<WrittenNode>& children, std::size_t s,
                                    std::size_t e, std::uint8_t height, bool is_root) {
    std::size_t excluded = 0;
    if (!is_root) {
      excluded = CommonPrefixLength(children[s].first_key, children[e - 1].first_key);
      for (std::size_t i = s; i < e; ++i)
        excluded = std::min(excluded, children[i].excluded_prefix);
    }
    BtreeNode node;
    node.height = height;
    BtreeStatistics stats;
    for (std::size_t i = s; i < e; ++i) {
      stats += children[i].ref.statistics;
      node.children.push_back({children[i].first_key.substr(excluded),
                               children[i].excluded_prefix - excluded, children[i].ref});
    }
    return Finish(node, std::move(children[s].first_key), excluded, stats);
  }

 private:
  Result<WrittenNode> Finish(const BtreeNode& node, std::string first_key, std::size_t excluded,
                             BtreeStatistics stats) {
    STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, EncodeBtreeNode(config_, node));
    stats.num_tree_bytes += encoded.size();
    STOWAGE_ASSIGN_OR_RETURN(IndirectRef location, sink_(encoded));
    return WrittenNode{std::move(first_key), excluded, {std::move(location), stats}};
  }

  const Config& config_;
  const NodeSink& sink_;
};

}  // namespace

Result<TreeRoot> WriteTree(const Config& config, std::vector<KeyValueRef> entries,
                           const NodeSink& sink) {
  if (entries.empty()) return TreeRoot{0, {IndirectRef::Missing(), {}}};
  TreeBuilder builder(config, sink);
  std::vector<WrittenNode> level;
  auto ranges = SplitPoints(entries, config.max_decoded_node_bytes, 1);
  for (auto [s, e] : ranges) {
    STOWAGE_ASSIGN_OR_RETURN(auto node, builder.WriteLeaf(entries, s, e, ranges.size() == 1));
    level.push_back(std::move(node));
  }
  std::uint8_t height = 0;
  while (level.size() > 1) {
    ++height;
    std::vector<WrittenNode> next;
    ranges = SplitPoints(level, config.max_decoded_node_bytes, 2);
    for (auto [s, e] : ranges) {
      STOWAGE_ASSIGN_OR_RETURN(auto node,
                               builder.WriteInterior(level, s, e, height, ranges.size() == 1));
      next.push_back(std::move(node));
    }
    level = std::move(next);
  }
  return TreeRoot{height, std::move(level[0].ref)};
}

}  // namespace stowage::kvstore::ocdbt
