// Which stored chunks of an array leaf no checksum covers, for
// VerifyCheckpoint: a flipped byte in them can change the restored values
// unnoticed (docs/format.md §6 lists what covers which bytes).
#pragma once

#include <optional>

#include "stowage/inspect.h"
#include "stowage/kvstore.h"
#include "stowage/ocdbt.h"
#include "stowage/verify.h"

namespace stowage::checkpoint {

// The chunks of `leaf` (as InspectCheckpoint describes it) that no checksum
// covers, or nullopt when every chunk is covered. `files` is the checkpoint
// directory's store; `ocdbt` its root OCDBT database, when the leaf lives
// there (values inline in a B+tree node are covered by the node's CRC-32C).
// Chunks that cannot be read are left out: restoring them reports them.
std::optional<UnverifiableLeaf> FindUncoveredChunks(const kvstore::Store& files,
                                                    const kvstore::OcdbtStore* ocdbt,
                                                    const LeafInfo& leaf);

}  // namespace stowage::checkpoint
