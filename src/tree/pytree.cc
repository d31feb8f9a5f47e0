#include "tree/pytree.h"

#include <algorithm>
#include <charconv>

namespace stowage {

Tree& Tree::operator[](std::string_view key) {
  if (is_none()) node_ = Map{};
  auto& members = std::get<Map>(node_);
  for (auto& [name, child] : members) {
    if (name == key) return child;
  }
  return members.emplace_back(std::string(key), Tree()).second;
}

const Tree* Tree::Find(std::string_view key) const {
  if (!is_map()) return nullptr;
  for (const auto& [name, child] : map()) {
    if (name == key) return &child;
  }
  return nullptr;
}

Tree* Tree::Find(std::string_view key) {
  return const_cast<Tree*>(static_cast<const Tree&>(*this).Find(key));
}

Tree& Tree::Append(Tree child) {
  if (is_none()) node_ = Sequence{};
  return std::get<Sequence>(node_).emplace_back(std::move(child));
}

}  // namespace stowage

namespace stowage::tree {
namespace {

// Shared by Flatten and FlattenMutable: TreeT is Tree or const Tree.
template <typename TreeT, typename Out>
void FlattenInto(TreeT& tree, KeyPath& path, std::vector<Out>& out) {
  if (tree.is_map() && !tree.map().empty()) {
    std::vector<std::pair<const std::string*, TreeT*>> members;
    for (auto& member : tree.map()) {
      members.emplace_back(&member.first, &member.second);
    }
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (auto& [name, child] : members) {
      path.push_back({*name, KeyType::kDict});
      FlattenInto(*child, path, out);
      path.pop_back();
    }
  } else if (tree.is_sequence() && !tree.sequence().empty()) {
    for (std::size_t i = 0; i < tree.sequence().size(); ++i) {
      path.push_back({std::to_string(i), KeyType::kSequence});
      FlattenInto(tree.sequence()[i], path, out);
      path.pop_back();
    }
  } else {
    out.push_back({path, &tree});
  }
}

std::string PathText(const KeyPath& path, std::size_t depth) {
  KeyPath prefix(path.begin(), path.begin() + depth);
  return "\"" + ParamName(prefix) + "\"";
}

// Descends one key from `node`, creating what the key type asks for.
Result<Tree*> Child(Tree& node, const KeyPath& path, std::size_t depth, std::size_t gap_limit) {
  const KeyEntry& key = path[depth];
  if (key.type == KeyType::kDict) {
    if (!node.is_none() && !node.is_map()) {
      return DataLossError("key path " + PathText(path, depth + 1) +
                           ": a dict key under a non-dict node");
    }
    return &node[key.key];
  }
  if (!node.is_none() && !node.is_sequence()) {
    return DataLossError("key path " + PathText(path, depth + 1) +
                         ": a sequence index under a non-sequence node");
  }
  std::size_t index = 0;
  auto [end, ec] = std::from_chars(key.key.data(), key.key.data() + key.key.size(), index);
  std::size_t size = node.is_sequence() ? node.sequence().size() : 0;
  bool in_gap = index > size && index < gap_limit;
  if (ec != std::errc() || end != key.key.data() + key.key.size() || (index > size && !in_gap)) {
    return DataLossError("key path " + PathText(path, depth + 1) + ": sequence index \"" + key.key +
                         "\" does not follow " + std::to_string(size) + " elements");
  }
  while (node.is_none() || node.sequence().size() <= index) node.Append(Tree());
  return &node.sequence()[index];
}

}  // namespace

std::vector<FlatNode> Flatten(const Tree& tree) {
  std::vector<FlatNode> out;
  KeyPath path;
  FlattenInto<const Tree>(tree, path, out);
  return out;
}

std::vector<MutableFlatNode> FlattenMutable(Tree& tree) {
  std::vector<MutableFlatNode> out;
  KeyPath path;
  FlattenInto<Tree>(tree, path, out);
  return out;
}

std::string_view EmptyNodeTypestr(const Tree& node) {
  if (node.is_map()) return "Dict";
  if (node.is_sequence()) return "List";
  return "None";
}

Tree EmptyNodeOf(std::string_view typestr) {
  if (typestr == "Dict") return Tree::EmptyMap();
  if (typestr == "List" || typestr == "Tuple") return Tree::EmptySequence();
  return Tree();
}

bool IsEmptyNodeTypestr(std::string_view typestr) {
  return typestr == "Dict" || typestr == "List" || typestr == "Tuple" || typestr == "NamedTuple" ||
         typestr == "None";
}

Result<Tree> Unflatten(std::vector<std::pair<KeyPath, Tree>> nodes, std::size_t gap_limit) {
  Tree root;
  for (auto& [path, value] : nodes) {
    if (path.empty()) {
      if (nodes.size() != 1) return DataLossError("a bare leaf () beside other leaves");
      return std::move(value);
    }
    Tree* node = &root;
    for (std::size_t depth = 0; depth < path.size(); ++depth) {
      STOWAGE_ASSIGN_OR_RETURN(node, Child(*node, path, depth, gap_limit));
    }
    if (!node->is_none()) {
      return DataLossError("key path " + PathText(path, path.size()) + " appears twice");
    }
    *node = std::move(value);
  }
  return root;
}

}  // namespace stowage::tree
