// The parts of InspectCheckpoint (stowage/inspect.h), one file each:
// inspect.cc (entry point, shared helpers), inspect_arrays.cc (array leaves
// and the OCDBT database), inspect_tree.cc (the tree of a PyTree
// checkpoint), inspect_composite.cc (composite items), inspect_json.cc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stowage/inspect.h"
#include "stowage/kvstore.h"
#include "tree/tree_metadata.h"

namespace stowage::checkpoint::inspect {

// Bytes of every regular file under `dir`; counts them into `*files` when
// `files` is not null.
std::uint64_t DirectoryBytes(const std::filesystem::path& dir, std::uint64_t* files);

// `text` as valid UTF-8 (a byte that does not start a valid character
// becomes '?'), cut to at most `max_bytes` without splitting a character.
std::string CutUtf8(std::string_view text, std::size_t max_bytes);

// The first `max_bytes` bytes of the file at `path` (all of it when
// smaller); its size goes to `*size`. Errors: kNotFound, kIo.
Result<std::string> ReadFileHead(const std::filesystem::path& path, std::uint64_t max_bytes,
                                 std::uint64_t* size);

// Where a checkpoint's arrays are: a directory, or an OCDBT database in it.
struct ArrayLocation {
  std::filesystem::path dir;
  std::shared_ptr<kvstore::Store> store;
  const kvstore::OcdbtStore* ocdbt = nullptr;  // `store`, when it is OCDBT
};

// Fills the array fields of `leaf` (named leaf.name in `where`) from its
// `.zarray` or `zarr.json` and counts its stored bytes; a problem is
// recorded in leaf.problem.
void DescribeArrayLeaf(const ArrayLocation& where, LeafInfo& leaf);

// Array names found without `_METADATA`: prefixes holding a `.zarray` or
// `zarr.json`, sorted.
std::vector<std::string> FoundArrayNames(const ArrayLocation& where);

// The summary, keys, data files and per-process databases of the OCDBT
// database of the checkpoint at `dir`.
OcdbtInfo DescribeOcdbt(const std::filesystem::path& dir, const kvstore::OcdbtStore& store);

// Fills format, leaves, tree and ocdbt of `info` for the tree checkpoint at
// info.path. Errors: kDataLoss (corrupt `_METADATA` or OCDBT manifest),
// kNotFound (`_METADATA` says OCDBT, no manifest).
Status DescribeTreeCheckpoint(CheckpointInfo& info);

// Paths deeper than this are not placed in the tree (the leaf stays listed).
inline constexpr std::size_t kMaxInspectedTreeDepth = 1000;

// The tree over key paths: leaf i at `paths[i]`, nodes in first-seen order.
// Paths deeper than kMaxInspectedTreeDepth are left out and named in `*note`.
TreeNodeInfo BuildTree(const std::vector<tree::KeyPath>& paths, std::string* note);

// The kind of a leaf with `_METADATA` value type `value_type`.
LeafKind LeafKindOf(std::string_view value_type);

// True when the directory is a composite checkpoint (see InspectCheckpoint).
bool IsComposite(const std::filesystem::path& dir, const nlohmann::ordered_json& item_handlers);

// Each item of the composite checkpoint at `dir`, sorted by name.
std::vector<ItemInfo> DescribeItems(const std::filesystem::path& dir,
                                    const nlohmann::ordered_json& item_handlers);

}  // namespace stowage::checkpoint::inspect
