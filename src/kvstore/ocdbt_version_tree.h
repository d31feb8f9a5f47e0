// Adding a generation to a manifest's version tree (tensorstore-formats.md
// C8; tensorstore/kvstore/ocdbt/non_distributed/create_new_manifest.cc):
// the newest generations stay inline in the manifest; a full block of them
// moves into a version-tree node, and full nodes into higher ones.
#pragma once

#include <functional>

#include "kvstore/ocdbt_format.h"
#include "kvstore/ocdbt_tree_writer.h"

namespace stowage::kvstore::ocdbt {

using VersionNodeReader = std::function<Result<VersionNode>(const VersionNodeRef&)>;

// Appends `version` (whose generation is one past the latest) to
// `manifest`, writing new version-tree nodes through `sink`.
Status AppendVersion(Manifest& manifest, Version version, const VersionNodeReader& read_node,
                     const NodeSink& sink);

// Calls `visit(min, max, height)` for each height of the version tree a
// manifest whose latest generation is `latest` may reference, lowest first.
void ForEachVersionTreeRange(
    std::uint64_t latest, std::uint8_t arity_log2,
    const std::function<void(std::uint64_t, std::uint64_t, std::uint8_t)>& visit);

}  // namespace stowage::kvstore::ocdbt
