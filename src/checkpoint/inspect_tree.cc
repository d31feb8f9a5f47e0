// The leaves and the tree of a PyTree checkpoint, for InspectCheckpoint:
// from `_METADATA`, from a legacy msgpack aggregate file, or from the arrays
// found.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <variant>

#include "base/stored_json.h"
#include "checkpoint/base_pytree_handler.h"
#include "checkpoint/dir_ops.h"
#include "checkpoint/inspect_internal.h"
#include "checkpoint/layout.h"
#include "checkpoint/legacy_aggregate.h"
#include "checkpoint/string_leaves.h"
#include "stowage/directory.h"
#include "tree/pytree.h"

namespace stowage::checkpoint::inspect {
namespace fs = std::filesystem;

namespace {

// Nodes in one vector while building, so lookups by path survive growth.
class TreeBuilder {
 public:
  TreeBuilder() : nodes_(1) {}

  // Places leaf `leaf` at `path`, creating the nodes between.
  void Add(const tree::KeyPath& path, std::size_t leaf) {
    std::size_t node = 0;
    std::string prefix;
    for (const tree::KeyEntry& key : path) {
      bool is_index = key.type == tree::KeyType::kSequence;
      prefix += (is_index ? '#' : '.') + std::to_string(key.key.size()) + ':' + key.key;
      auto [it, added] = by_path_.try_emplace(prefix, nodes_.size());
      if (added) {
        nodes_.push_back({.key = key.key, .is_index = is_index});
        nodes_[node].children.push_back(it->second);
      }
      node = it->second;
    }
    nodes_[node].leaf = leaf;
  }

  TreeNodeInfo Build() const { return Build(0); }

 private:
  struct Node {
    std::string key;
    bool is_index = false;
    std::optional<std::size_t> leaf;
    std::vector<std::size_t> children;
  };

  // Recursion is bounded by kMaxInspectedTreeDepth (callers check).
  TreeNodeInfo Build(std::size_t index) const {
    const Node& node = nodes_[index];
    TreeNodeInfo out{.key = node.key, .is_index = node.is_index, .leaf = node.leaf};
    out.children.reserve(node.children.size());
    for (std::size_t child : node.children) out.children.push_back(Build(child));
    return out;
  }

  std::vector<Node> nodes_;  // [0] is the root
  std::unordered_map<std::string, std::size_t> by_path_;
};

// Fills `leaf` from a value decoded from the aggregate file. Placeholders
// name zarr arrays stored beside the file, described from `where`.
void DescribeMsgpackValue(const tree::MsgpackValue& value, const ArrayLocation& where,
                          LeafInfo& leaf) {
  if (IsPlaceholder(value)) {
    DescribeArrayLeaf(where, leaf);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    leaf.value_type = tree::kStringTypestr;
    leaf.kind = LeafKind::kString;
    leaf.string_bytes = text->size();
    leaf.string_value = CutUtf8(*text, kMaxInspectedStringBytes);
  } else if (const auto* empty = std::get_if<tree::MsgpackEmptyContainer>(&value)) {
    bool map = empty->kind == tree::MsgpackEmptyContainer::Kind::kMap;
    bool tuple = empty->kind == tree::MsgpackEmptyContainer::Kind::kTuple;
    leaf.value_type = map ? "Dict" : tuple ? "Tuple" : "List";
    leaf.kind = map ? LeafKind::kEmptyMap : LeafKind::kEmptySequence;
  } else if (std::holds_alternative<std::monostate>(value)) {
    leaf.value_type = "None";
    leaf.kind = LeafKind::kNone;
  } else {
    const Array& array = std::holds_alternative<Array>(value) ? std::get<Array>(value)
                                                              : std::get<Scalar>(value).array();
    if (leaf.value_type.empty()) {
      leaf.value_type =
          std::holds_alternative<Array>(value) ? tree::kNumpyTypestr : tree::kScalarTypestr;
    }
    leaf.dtype = array.dtype();
    leaf.shape = array.shape();
    leaf.storage_format = "msgpack aggregate";
    leaf.bytes_on_disk = array.bytes().size();
  }
}

// The aggregate file's leaves, if it has a size inspect reads; otherwise
// nullopt with `*note` saying why.
std::optional<AggregateFile> OpenSmallAggregate(const fs::path& dir, std::string* note) {
  fs::path file = dir / std::string(kAggregateFile);
  std::uint64_t size = 0;
  auto store = kvstore::OpenDirectory(dir);
  if (store.has_value()) size = (*store)->Size(std::string(kAggregateFile)).value_or(0);
  if (size > kMaxInspectedAggregateBytes) {
    *note = "the aggregate file " + file.string() + " (" + std::to_string(size) +
            " bytes) is larger than inspect reads (" + std::to_string(kMaxInspectedAggregateBytes) +
            " bytes)";
    return std::nullopt;
  }
  auto aggregate = AggregateFile::Open(dir, kMaxInspectedAggregateBytes);
  if (!aggregate.has_value()) {
    *note = aggregate.error().ToString();
    return std::nullopt;
  }
  return std::move(*aggregate);
}

// Leaves `_METADATA` marks skip_deserialize hold their value in the
// aggregate file: described from it when it is small.
void DescribeAggregatedLeaves(const ArrayLocation& where,
                              const std::vector<std::size_t>& aggregated, CheckpointInfo& info) {
  if (aggregated.empty()) return;
  std::string note;
  std::optional<AggregateFile> aggregate = OpenSmallAggregate(where.dir, &note);
  std::map<std::string, const tree::MsgpackLeaf*> by_name;
  if (aggregate) {
    for (const auto& leaf : aggregate->leaves()) by_name[tree::ParamName(leaf.path)] = &leaf;
  }
  for (std::size_t index : aggregated) {
    LeafInfo& leaf = info.leaves[index];
    auto found = by_name.find(leaf.name);
    if (found == by_name.end()) {
      leaf.problem = "stored in the legacy msgpack aggregate file" +
                     (aggregate ? std::string(", which does not hold it") : ": " + note);
    } else {
      DescribeMsgpackValue(found->second->value, where, leaf);
    }
  }
}

void LeavesFromMetadata(const tree::TreeMetadata& metadata, const ArrayLocation& where,
                        CheckpointInfo& info, std::vector<tree::KeyPath>& paths) {
  info.tree_source = "_METADATA";
  std::vector<std::size_t> aggregated;
  for (const auto& entry : metadata.entries) {
    LeafInfo leaf;
    leaf.name = tree::ParamName(entry.keypath);
    leaf.value_type = entry.value.value_type;
    leaf.kind = LeafKindOf(leaf.value_type);
    leaf.write_shape = entry.value.write_shape;
    if (leaf.kind == LeafKind::kArray) {
      if (entry.value.skip_deserialize) {
        aggregated.push_back(info.leaves.size());
      } else {
        DescribeArrayLeaf(where, leaf);
      }
    }
    paths.push_back(entry.keypath);
    info.leaves.push_back(std::move(leaf));
  }
  DescribeAggregatedLeaves(where, aggregated, info);
}

// Without `_METADATA`: the tree of the aggregate file, when there is one
// inspect reads. False when there is none (or it is too large or corrupt,
// noted in info.tree_note).
bool LeavesFromAggregate(const ArrayLocation& where, CheckpointInfo& info,
                         std::vector<tree::KeyPath>& paths) {
  if (!FileExists(where.dir / std::string(kAggregateFile)).value_or(false)) return false;
  std::optional<AggregateFile> aggregate = OpenSmallAggregate(where.dir, &info.tree_note);
  if (!aggregate) return false;
  info.tree_source = "aggregate file";
  for (const auto& value : aggregate->leaves()) {
    LeafInfo leaf;
    leaf.name = tree::ParamName(value.path);
    DescribeMsgpackValue(value.value, where, leaf);
    paths.push_back(value.path);
    info.leaves.push_back(std::move(leaf));
  }
  return true;
}

// Neither: the arrays found, each a map key named as stored.
void LeavesFound(const ArrayLocation& where, CheckpointInfo& info,
                 std::vector<tree::KeyPath>& paths) {
  info.tree_source = "arrays found";
  for (auto& name : FoundArrayNames(where)) {
    LeafInfo leaf;
    leaf.name = name;
    DescribeArrayLeaf(where, leaf);
    paths.push_back({{name, tree::KeyType::kDict}});
    info.leaves.push_back(std::move(leaf));
  }
}

// The string at JSON pointer "/<name>" of `strings`, or nullptr.
const nlohmann::json* StringAt(const nlohmann::json& strings, const std::string& name) {
  if (name.find('~') != std::string::npos) return nullptr;  // not a pointer Orbax writes
  try {
    nlohmann::json::json_pointer pointer("/" + name);
    if (!strings.contains(pointer)) return nullptr;
    const nlohmann::json& value = strings.at(pointer);
    return value.is_string() ? &value : nullptr;
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // e.g. a non-numeric index into an array
  }
}

// `_strings.json` parsed, or a problem. Read only up to the size inspect
// reads.
nlohmann::json ReadStrings(const fs::path& file, std::string* problem) {
  std::uint64_t size = 0;
  auto text = ReadFileHead(file, kMaxInspectedAggregateBytes, &size);
  if (!text.has_value()) {
    *problem = text.error().ToString();
    return nullptr;
  }
  if (size > text->size()) {
    *problem = file.string() + " is larger than inspect reads";
    return nullptr;
  }
  auto json = ParseStoredJson<nlohmann::json>(*text, file.string());
  if (!json.has_value()) {
    *problem = json.error().message();
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return std::move(*json);
}

// The values of the string leaves `_METADATA` lists, from `_strings.json`
// (read once).
void DescribeStringLeaves(const fs::path& dir, std::vector<LeafInfo>& leaves) {
  auto is_string = [](const LeafInfo& leaf) { return leaf.kind == LeafKind::kString; };
  if (std::none_of(leaves.begin(), leaves.end(), is_string)) return;
  fs::path file = dir / std::string(kStringsFile);
  std::string problem;
  nlohmann::json strings = ReadStrings(file, &problem);
  for (LeafInfo& leaf : leaves) {
    if (!is_string(leaf)) continue;
    const nlohmann::json* value = problem.empty() ? StringAt(strings, leaf.name) : nullptr;
    if (value == nullptr) {
      leaf.problem =
          problem.empty() ? file.string() + " has no string \"" + leaf.name + "\"" : problem;
      continue;
    }
    const auto& text = value->get_ref<const std::string&>();
    leaf.string_bytes = text.size();
    leaf.string_value = CutUtf8(text, kMaxInspectedStringBytes);
  }
}

}  // namespace

LeafKind LeafKindOf(std::string_view value_type) {
  if (value_type == tree::kStringTypestr) return LeafKind::kString;
  if (!tree::IsEmptyNodeTypestr(value_type)) return LeafKind::kArray;
  Tree empty = tree::EmptyNodeOf(value_type);
  if (empty.is_map()) return LeafKind::kEmptyMap;
  return empty.is_sequence() ? LeafKind::kEmptySequence : LeafKind::kNone;
}

TreeNodeInfo BuildTree(const std::vector<tree::KeyPath>& paths, std::string* note) {
  TreeBuilder builder;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (paths[i].size() <= kMaxInspectedTreeDepth) {
      builder.Add(paths[i], i);
    } else if (note->empty()) {
      *note = "leaf \"" + tree::ParamName(paths[i]) + "\" is nested deeper than " +
              std::to_string(kMaxInspectedTreeDepth) + " levels: not shown in the tree";
    }
  }
  return builder.Build();
}

Status DescribeTreeCheckpoint(CheckpointInfo& info) {
  const fs::path& dir = info.path;
  std::optional<tree::TreeMetadata> metadata;
  STOWAGE_ASSIGN_OR_RETURN(bool has_metadata, FileExists(dir / kTreeMetadataFile));
  if (has_metadata) {
    BasePyTreeHandler reader({});
    STOWAGE_ASSIGN_OR_RETURN(metadata, reader.ReadTreeMetadata(dir));
    info.has_tree_metadata = true;
  }
  ArrayLocation where{dir, nullptr, nullptr};
  STOWAGE_ASSIGN_OR_RETURN(where.store, OpenArrayStore(dir, metadata ? &*metadata : nullptr));
  where.ocdbt = dynamic_cast<const kvstore::OcdbtStore*>(where.store.get());
  if (where.ocdbt) info.ocdbt = DescribeOcdbt(dir, *where.ocdbt);
  bool zarr3 = metadata && metadata->use_zarr3;
  info.format = std::string(where.ocdbt ? "OCDBT + " : "") + (zarr3 ? "zarr3" : "zarr v2");
  std::vector<tree::KeyPath> paths;
  if (metadata) {
    LeavesFromMetadata(*metadata, where, info, paths);
    DescribeStringLeaves(dir, info.leaves);
  } else if (!LeavesFromAggregate(where, info, paths)) {
    LeavesFound(where, info, paths);
  }
  info.tree = BuildTree(paths, &info.tree_note);
  return OkStatus();
}

}  // namespace stowage::checkpoint::inspect
