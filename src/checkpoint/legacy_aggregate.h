// The msgpack aggregate file (`checkpoint`) of checkpoints Orbax wrote
// before 2024 (orbax `aggregate_handlers.py`, Flax serialization): leaves
// saved inside it, and `PLACEHOLDER://` strings for leaves saved as zarr
// arrays beside it.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "stowage/tree.h"
#include "tree/msgpack_checkpoint.h"

namespace stowage::checkpoint {

// The aggregate file's name inside a checkpoint directory.
inline constexpr std::string_view kAggregateFile = "checkpoint";

class AggregateFile {
 public:
  // Decodes `<directory>/checkpoint`; nullopt when there is none.
  // Errors: kDataLoss (not a valid msgpack checkpoint, naming the file), kIo.
  static Result<std::optional<AggregateFile>> Open(const std::filesystem::path& directory,
                                                   std::uint64_t max_bytes);

  // The leaf whose key names equal those of `path`, or nullptr.
  tree::MsgpackLeaf* Find(const tree::KeyPath& path);

  const std::vector<tree::MsgpackLeaf>& leaves() const { return leaves_; }
  std::vector<tree::MsgpackLeaf>& leaves() { return leaves_; }

 private:
  explicit AggregateFile(std::vector<tree::MsgpackLeaf> leaves) : leaves_(std::move(leaves)) {}
  std::vector<tree::MsgpackLeaf> leaves_;
};

// The Tree node a decoded msgpack value becomes (arrays cast to `dtype`
// when set). Errors: kInvalidArgument (a cast that is not possible).
Result<Tree> TreeNodeOf(tree::MsgpackValue value, const std::optional<DType>& dtype);

// True for a `PLACEHOLDER://` string: the leaf is a zarr array beside the file.
bool IsPlaceholder(const tree::MsgpackValue& value);

}  // namespace stowage::checkpoint
