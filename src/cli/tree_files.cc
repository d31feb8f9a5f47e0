#include "cli/tree_files.h"

#include "npy/npz.h"

namespace stowage::cli {
namespace {

void CollectArrays(const Tree& tree, const std::string& path,
                   std::vector<std::pair<std::string, ArrayView>>& out, std::size_t* skipped) {
  auto child_path = [&](const std::string& key) { return path.empty() ? key : path + "/" + key; };
  if (tree.is_map()) {
    for (const auto& [key, child] : tree.map()) CollectArrays(child, child_path(key), out, skipped);
  } else if (tree.is_sequence()) {
    for (std::size_t i = 0; i < tree.sequence().size(); ++i) {
      CollectArrays(tree.sequence()[i], child_path(std::to_string(i)), out, skipped);
    }
  } else if (tree.is_leaf()) {
    ArrayView storage;
    const ArrayView* view = ArrayViewOf(tree.leaf(), storage);
    if (view) {
      out.emplace_back(path, *view);
    } else {
      ++*skipped;
    }
  } else {
    ++*skipped;
  }
}

}  // namespace

Result<Tree> ReadTreeFromNpz(const std::string& path) {
  STOWAGE_ASSIGN_OR_RETURN(auto arrays, npy::ReadNpzFile(path));
  Tree tree;
  for (auto& [name, array] : arrays) {
    Tree* node = &tree;
    std::size_t start = 0;
    while (true) {
      std::size_t slash = name.find('/', start);
      std::string key = name.substr(start, slash == std::string::npos ? slash : slash - start);
      if (node->is_leaf() || node->is_sequence()) {
        return InvalidArgumentError(path + ": member \"" + name + "\" lies under another array");
      }
      node = &(*node)[key];
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (!node->is_none()) {
      return InvalidArgumentError(path + ": member \"" + name + "\" is also a subtree");
    }
    *node = Tree(std::move(array));
  }
  return tree;
}

Status WriteTreeToNpz(const Tree& tree, const std::string& path, std::size_t* skipped) {
  std::vector<std::pair<std::string, ArrayView>> arrays;
  CollectArrays(tree, "", arrays, skipped);
  return npy::WriteNpzFile(path, arrays);
}

}  // namespace stowage::cli
