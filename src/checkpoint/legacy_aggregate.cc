#include "checkpoint/legacy_aggregate.h"

#include "checkpoint/dir_ops.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "tree/pytree.h"

namespace stowage::checkpoint {
namespace fs = std::filesystem;

namespace {

Result<std::vector<tree::MsgpackLeaf>> DecodeFile(const fs::path& path, std::uint64_t max_bytes) {
  STOWAGE_ASSIGN_OR_RETURN(Bytes bytes,
                           ReadFileBytes(path, max_bytes != 0 ? max_bytes : UINT64_MAX));
  return tree::DecodeMsgpackCheckpoint(bytes, path.string(), max_bytes);
}

}  // namespace

Result<std::optional<AggregateFile>> AggregateFile::Open(const fs::path& directory,
                                                         std::uint64_t max_bytes) {
  fs::path path = directory / std::string(kAggregateFile);
  STOWAGE_ASSIGN_OR_RETURN(bool exists, FileExists(path));
  if (!exists) return std::optional<AggregateFile>();
  STOWAGE_ASSIGN_OR_RETURN(auto leaves, DecodeFile(path, max_bytes));
  return std::optional<AggregateFile>(AggregateFile(std::move(leaves)));
}

tree::MsgpackLeaf* AggregateFile::Find(const tree::KeyPath& path) {
  for (auto& leaf : leaves_) {
    if (leaf.path.size() != path.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < path.size() && same; ++i) same = leaf.path[i].key == path[i].key;
    if (same) return &leaf;
  }
  return nullptr;
}

bool IsPlaceholder(const tree::MsgpackValue& value) {
  const auto* text = std::get_if<std::string>(&value);
  return text && text->starts_with(tree::kMsgpackPlaceholderPrefix);
}

Result<Tree> TreeNodeOf(tree::MsgpackValue value, const std::optional<DType>& dtype) {
  if (auto* array = std::get_if<Array>(&value)) {
    if (dtype && *dtype != array->dtype()) {
      STOWAGE_ASSIGN_OR_RETURN(Array cast, array->AsType(*dtype));
      return Tree(std::move(cast));
    }
    return Tree(std::move(*array));
  }
  if (auto* scalar = std::get_if<Scalar>(&value)) return Tree(std::move(*scalar));
  if (auto* text = std::get_if<std::string>(&value)) return Tree(std::move(*text));
  if (auto* empty = std::get_if<tree::MsgpackEmptyContainer>(&value)) {
    return empty->kind == tree::MsgpackEmptyContainer::Kind::kMap ? Tree::EmptyMap()
                                                                  : Tree::EmptySequence();
  }
  return Tree();  // None
}

}  // namespace stowage::checkpoint

namespace stowage {

Result<Tree> ReadMsgpackCheckpointFile(const std::filesystem::path& file, std::uint64_t max_bytes) {
  STOWAGE_ASSIGN_OR_RETURN(auto leaves, checkpoint::DecodeFile(file, max_bytes));
  std::vector<std::pair<tree::KeyPath, Tree>> nodes;
  for (auto& leaf : leaves) {
    STOWAGE_ASSIGN_OR_RETURN(Tree node, checkpoint::TreeNodeOf(std::move(leaf.value), {}));
    nodes.emplace_back(std::move(leaf.path), std::move(node));
  }
  auto tree = tree::Unflatten(std::move(nodes));
  if (!tree.has_value()) return tree.error().WithContext(file.string());
  return std::move(*tree);
}

}  // namespace stowage
