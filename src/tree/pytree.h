// Flattening a Tree into key paths, as jax.tree_util flattens a pytree
// (dict keys sorted, sequence indices as decimal strings), and rebuilding a
// Tree from key paths, as Orbax rebuilds one from `_METADATA`
// (orbax `_src/tree/utils.py` `from_flattened_with_keypath`).
#pragma once

#include <vector>

#include "stowage/tree.h"
#include "tree/tree_metadata.h"

namespace stowage::tree {

// A leaf or an empty node of a tree, with its key path.
struct FlatNode {
  KeyPath path;
  const Tree* node;  // a leaf, None, an empty map or an empty sequence
};

// Leaves and empty nodes in flatten order: map members by sorted key (as
// JAX sorts dict keys), sequence elements by index.
std::vector<FlatNode> Flatten(const Tree& tree);

// Flatten for a tree the caller owns, so leaves can be moved out.
struct MutableFlatNode {
  KeyPath path;
  Tree* node;
};
std::vector<MutableFlatNode> FlattenMutable(Tree& tree);

// Orbax's empty-node typestr of an empty node ("Dict", "List", "None").
std::string_view EmptyNodeTypestr(const Tree& node);

// The empty node an empty-node typestr restores as ("Dict" -> {},
// "List"/"Tuple" -> [], anything else -> None).
Tree EmptyNodeOf(std::string_view typestr);

// True for the typestrs of empty nodes (Orbax `empty_values.py`).
bool IsEmptyNodeTypestr(std::string_view typestr);

// Builds a tree holding `nodes` at their key paths: kDict keys make maps,
// kSequence keys make sequences (indices consecutive from 0, except that
// indices below `gap_limit` may skip elements, which become None: a partial
// restore of a sequence). Errors: kDataLoss naming the key path when paths
// conflict (a leaf and a subtree at one path, a map key under a sequence, a
// gap in indices).
Result<Tree> Unflatten(std::vector<std::pair<KeyPath, Tree>> nodes, std::size_t gap_limit = 0);

}  // namespace stowage::tree
