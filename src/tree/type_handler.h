// Type handlers save and restore one kind of leaf, as Orbax's TypeHandlers
// do (orbax `_src/serialization/type_handlers.py`, `type_handler_registry.py`).
// A registry maps leaves and Orbax value_type strings to handlers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "array/zarr3_array.h"
#include "array/zarr_array.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "stowage/tree.h"
#include "stowage/type_handler.h"
#include "tree/tree_metadata.h"

namespace stowage::tree {

// Where and how one leaf is stored (Orbax's ParamInfo).
struct ParamInfo {
  std::string name;  // Orbax param name, e.g. "params.w"; the array's key prefix
  KeyPath keypath;
  std::shared_ptr<kvstore::Store> store;  // rooted at the checkpoint directory
  bool use_compression = true;
  // zarr3 zstd frames carry a content checksum ("checksum": true). zarr v2
  // frames always do (the `.zarray` cannot record it).
  bool zstd_checksum = true;
  // Arrays are written as zarr3 (Orbax `use_zarr3`); reads follow what is
  // stored (`zarr.json` or `.zarray`).
  bool use_zarr3 = false;
  // From `_METADATA.store_array_data_equal_to_fill_value`: a missing chunk is
  // an error rather than fill.
  bool raise_array_data_missing_error = true;
  // With OCDBT, no chunk may exceed this many bytes (Orbax
  // `calculate_chunk_byte_size`, 2 GiB for local files); 0: no cap.
  std::int64_t ocdbt_target_data_file_size = 0;
  // A zarr v2 array saved without SaveArgs::chunk_byte_size that Orbax would
  // store as one larger chunk is cut into C-order slabs of at most this many
  // bytes; 0: Orbax's chunking.
  std::int64_t max_default_chunk_bytes = 0;
  // This process among those saving or restoring together. Only process 0
  // writes array metadata and unsharded leaves (Orbax's primary host).
  int process_index = 0;
  int process_count = 1;
  array_io::IoOptions io;
};

// What a saved leaf adds to the checkpoint's side files (Orbax's
// ArrayMetadata and sharding metadata); empty for numpy arrays and scalars.
struct SavedLeafMetadata {
  std::optional<Shape> write_shape;  // `_METADATA` and `array_metadatas/`
  std::optional<Shape> chunk_shape;  // `array_metadatas/`
  std::string sharding;              // the `_sharding` value (JSON text); empty: none
};

// A leaf whose write has started.
struct SerializedLeaf {
  Future<void> written;
  SavedLeafMetadata metadata;
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
  virtual Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                           const SaveArgs& args) const = 0;

  // Reads the leaf stored under `info`.
  virtual Result<Leaf> Deserialize(const ParamInfo& info, const RestoreArgs& args) const = 0;
};

class TypeHandlerRegistry {
 public:
  // A registry holding `custom` handlers (consulted first) and stowage's
  // built-in ones: "np.ndarray" (Array and ArrayView leaves), "scalar"
  // (Scalar leaves) and "jax.Array" (arrays saved as single-device
  // jax.Arrays when asked for; restored as host arrays). Errors:
  // kInvalidArgument when two handlers share a typestr.
  static Result<TypeHandlerRegistry> WithBuiltins(
      const std::vector<std::shared_ptr<const CustomTypeHandler>>& custom = {});

  // Adds `handler`. Errors: kAlreadyExists when its typestr is taken.
  Status Register(std::shared_ptr<const TypeHandler> handler);

  // The handler for `leaf`: by args.value_type when set, else the first
  // accepting it, except that Array and ArrayView leaves not claimed by a
  // custom handler go to `arrays`' handler. Errors: kUnsupported.
  Result<const TypeHandler*> ForLeaf(const Leaf& leaf, const SaveArgs& args = {},
                                     ArrayValueType arrays = ArrayValueType::kNumpy) const;

  // The handler for an Orbax value_type. Errors: kUnsupported naming it.
  Result<const TypeHandler*> ForTypestr(std::string_view typestr) const;

 private:
  std::vector<std::shared_ptr<const TypeHandler>> handlers_;
  std::size_t num_custom_ = 0;  // handlers_[0, num_custom_) are users' handlers
};

// Human-readable kind of a leaf ("array", "array view", "scalar", "string").
std::string_view LeafKindName(const Leaf& leaf);

}  // namespace stowage::tree
