// stowage layer: tree
//
// Extending what a tree checkpoint can hold, after Orbax's
// `register_type_handler` (orbax `_src/serialization/type_handler_registry.py`):
// a CustomTypeHandler saves the leaves it claims under their param name and
// restores leaves whose `_METADATA` value_type is its typestr. Register one
// through PyTreeCheckpointHandlerOptions::type_handlers.
#pragma once

#include <string_view>

#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "stowage/tree.h"

namespace stowage {

// How array leaves (Array, ArrayView) are recorded in `_METADATA`, and so
// what Orbax restores them as when no target is given.
enum class ArrayValueType {
  kNumpy,     // value_type "np.ndarray": restores as a numpy array
  kJaxArray,  // value_type "jax.Array" on one device ("cpu:0"), with `_sharding`
              // and `array_metadatas/process_0`, as Orbax saves a jax.Array
};

// A user-defined type handler. Implementations must be thread-safe: Save and
// Restore run concurrently for different leaves.
class CustomTypeHandler {
 public:
  virtual ~CustomTypeHandler() = default;

  // The value_type recorded in `_METADATA`; must differ from the built-in
  // "np.ndarray", "scalar", "jax.Array" and "string".
  virtual std::string_view typestr() const = 0;

  // True when this handler saves `leaf` (consulted before the built-in
  // handlers). SaveArgs::value_type selects a handler explicitly instead.
  virtual bool Accepts(const Leaf& leaf) const = 0;

  // Stores `leaf` under keys starting with `param_name + "/"` in `store`
  // (the checkpoint's directory, or its OCDBT database). May return before
  // the write is done; the future reports it. `leaf` may borrow caller
  // memory (an ArrayView) only until Save returns. In a multi-process save
  // only process 0 calls it.
  virtual Result<Future<void>> Save(std::shared_ptr<kvstore::Store> store,
                                    std::string_view param_name, Leaf leaf,
                                    const SaveArgs& args) const = 0;

  // Restores what Save stored under `param_name`.
  virtual Result<Leaf> Restore(const kvstore::Store& store, std::string_view param_name,
                               const RestoreArgs& args) const = 0;
};

}  // namespace stowage
