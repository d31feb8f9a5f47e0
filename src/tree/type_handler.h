// Type handlers save and restore one kind of leaf, as Orbax's TypeHandlers
// do (orbax `_src/serialization/type_handlers.py`, `type_handler_registry.py`).
// A registry maps leaves and Orbax value_type strings to handlers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "array/zarr3_array.h"
#include "array/zarr_array.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "stowage/tree.h"
#include "tree/tree_metadata.h"

namespace stowage::tree {

// Where and how one leaf is stored (Orbax's ParamInfo).
struct ParamInfo {
  std::string name;  // Orbax param name, e.g. "params.w"; the array's key prefix
  KeyPath keypath;
  std::shared_ptr<kvstore::Store> store;  // rooted at the checkpoint directory
  bool use_compression = true;
  // Arrays are written as zarr3 (Orbax `use_zarr3`); reads follow what is
  // stored (`zarr.json` or `.zarray`).
  bool use_zarr3 = false;
  // From `_METADATA.store_array_data_equal_to_fill_value`: a missing chunk is
  // an error rather than fill.
  bool raise_array_data_missing_error = true;
  array_io::IoOptions io;
};

class TypeHandler {
 public:
  virtual ~TypeHandler() = default;

  // The value_type written to `_METADATA` for leaves this handler saves.
  virtual std::string_view typestr() const = 0;

  // True when this handler saves `leaf`.
  virtual bool Accepts(const Leaf& leaf) const = 0;

  // Takes a snapshot of `leaf` (copying borrowed memory) before returning,
  // then writes it in the background; the future reports the write.
  virtual Result<Future<void>> Serialize(const ParamInfo& info, Leaf leaf,
                                         const SaveArgs& args) const = 0;

  // Reads the leaf stored under `info`.
  virtual Result<Leaf> Deserialize(const ParamInfo& info, const RestoreArgs& args) const = 0;
};

class TypeHandlerRegistry {
 public:
  // A registry holding stowage's built-in handlers: "np.ndarray" (Array and
  // ArrayView leaves), "scalar" (Scalar leaves) and, for reading only,
  // "jax.Array" (restored as host arrays).
  static TypeHandlerRegistry WithBuiltins();

  // Adds `handler`. Errors: kAlreadyExists when its typestr is taken.
  Status Register(std::shared_ptr<const TypeHandler> handler);

  // The first handler accepting `leaf`. Errors: kUnsupported.
  Result<const TypeHandler*> ForLeaf(const Leaf& leaf) const;

  // The handler for an Orbax value_type. Errors: kUnsupported naming it.
  Result<const TypeHandler*> ForTypestr(std::string_view typestr) const;

 private:
  std::vector<std::shared_ptr<const TypeHandler>> handlers_;
};

// Human-readable kind of a leaf ("array", "array view", "scalar", "string").
std::string_view LeafKindName(const Leaf& leaf);

}  // namespace stowage::tree
