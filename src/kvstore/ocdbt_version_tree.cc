#include "kvstore/ocdbt_version_tree.h"

#include <algorithm>

namespace stowage::kvstore::ocdbt {
namespace {

// A version node of the new manifest: an old node to extend and/or a new
// child to add.
struct PlannedNode {
  const VersionNodeRef* existing = nullptr;
  const VersionNodeRef* new_child = nullptr;
};

Result<VersionNodeRef> WriteNode(const Config& config, const VersionNode& node, VersionNodeRef ref,
                                 const NodeSink& sink) {
  STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, EncodeVersionNode(config, node));
  STOWAGE_ASSIGN_OR_RETURN(ref.location, sink(encoded));
  return ref;
}

Result<VersionNodeRef> Realize(const Config& config, const PlannedNode& plan,
                               const VersionNodeReader& read_node, const NodeSink& sink) {
  if (plan.new_child == nullptr) return *plan.existing;
  VersionNode node{config.version_tree_arity_log2,
                   static_cast<std::uint8_t>(plan.new_child->height + 1),
                   {},
                   {}};
  VersionNodeRef ref{plan.new_child->generation,
                     {},
                     plan.new_child->num_generations,
                     plan.new_child->commit_time,
                     node.height};
  if (plan.existing != nullptr) {
    STOWAGE_ASSIGN_OR_RETURN(VersionNode old, read_node(*plan.existing));
    node.children = std::move(old.children);
    ref.num_generations += plan.existing->num_generations;
    ref.commit_time = plan.existing->commit_time;
  }
  node.children.push_back(*plan.new_child);
  return WriteNode(config, node, ref, sink);
}

}  // namespace

void ForEachVersionTreeRange(
    std::uint64_t latest, std::uint8_t arity_log2,
    const std::function<void(std::uint64_t, std::uint64_t, std::uint8_t)>& visit) {
  std::uint64_t g = ((latest - 1) >> arity_log2) << arity_log2;
  for (unsigned height = 1; g > 0; ++height) {
    unsigned shift = arity_log2 * (height + 1);
    std::uint64_t next = shift >= 64 ? 0 : ((g - 1) >> shift) << shift;
    visit(next + 1, g, static_cast<std::uint8_t>(height));
    g = next;
  }
}

Status AppendVersion(Manifest& manifest, Version version, const VersionNodeReader& read_node,
                     const NodeSink& sink) {
  const Config& config = manifest.config;
  const std::uint8_t a = config.version_tree_arity_log2;
  if (manifest.versions.empty()) {
    manifest.versions = {std::move(version)};
    return OkStatus();
  }
  std::uint64_t last = manifest.versions.back().generation;
  std::uint64_t generation = version.generation;
  if (((generation - 1) >> a) == ((last - 1) >> a)) {
    manifest.versions.push_back(std::move(version));
    return OkStatus();
  }
  // The inline block is full: it becomes a leaf node of the version tree.
  VersionNode leaf{a, 0, manifest.versions, {}};
  STOWAGE_ASSIGN_OR_RETURN(
      VersionNodeRef leaf_ref,
      WriteNode(config, leaf,
                {last, {}, manifest.versions.size(), manifest.versions.front().commit_time, 0},
                sink));
  const auto& old_nodes = manifest.version_tree_nodes;  // by decreasing height
  std::size_t old_index = old_nodes.size();
  const VersionNodeRef* carried = &leaf_ref;
  std::vector<PlannedNode> plan;
  ForEachVersionTreeRange(
      generation, a, [&](std::uint64_t min, std::uint64_t max, std::uint8_t height) {
        const VersionNodeRef* old = nullptr;
        if (old_index > 0 && old_nodes[old_index - 1].height == height)
          old = &old_nodes[--old_index];
        bool extend = old && old->generation >= min && old->generation <= max;
        bool add = carried && carried->generation >= min && carried->generation <= max;
        if (extend || add) plan.push_back({extend ? old : nullptr, add ? carried : nullptr});
        carried = old;
      });
  std::reverse(plan.begin(), plan.end());
  std::vector<VersionNodeRef> new_nodes;
  for (const auto& planned : plan) {
    STOWAGE_ASSIGN_OR_RETURN(auto ref, Realize(config, planned, read_node, sink));
    new_nodes.push_back(std::move(ref));
  }
  manifest.version_tree_nodes = std::move(new_nodes);
  manifest.versions = {std::move(version)};
  return OkStatus();
}

}  // namespace stowage::kvstore::ocdbt
