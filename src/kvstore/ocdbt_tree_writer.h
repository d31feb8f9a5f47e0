// Builds a B+tree from sorted key/value references, splitting nodes as
// TensorStore does (btree_node_encoder.cc: each node's estimated decoded
// size at most max_decoded_node_bytes, at most 2^20 entries) and choosing
// the same excluded prefixes, so equal input gives equal trees.
#pragma once

#include <functional>

#include "kvstore/ocdbt_format.h"
#include "kvstore/ocdbt_tree_reader.h"

namespace stowage::kvstore::ocdbt {

// Stores an encoded node and returns where it went.
using NodeSink = std::function<Result<IndirectRef>(std::span<const std::byte> encoded)>;

struct TreeRoot {
  std::uint8_t height = 0;
  BtreeNodeRef ref;  // Missing when there are no entries
};

// Writes the nodes of a tree holding `entries` (sorted, unique keys) through
// `sink`, leaves first, and returns the root.
Result<TreeRoot> WriteTree(const Config& config, std::vector<KeyValueRef> entries,
                           const NodeSink& sink);

}  // namespace stowage::kvstore::ocdbt
