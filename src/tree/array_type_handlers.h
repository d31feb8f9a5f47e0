// The built-in handlers for arrays and scalars, stored as zarr v2 arrays
// under the param name (orbax type_handlers.py NumpyHandler, ScalarHandler;
// jax_array_handlers.py for "jax.Array" on one device).
#pragma once

#include <memory>
#include <string>

#include "tree/type_handler.h"

namespace stowage::tree {

std::shared_ptr<const TypeHandler> NewNumpyHandler();
std::shared_ptr<const TypeHandler> NewScalarHandler();
std::shared_ptr<const TypeHandler> NewJaxArrayHandler();

// The `_sharding` value Orbax writes for a jax.Array on "cpu:0"
// (orbax `_src/metadata/sharding.py` SingleDeviceShardingMetadata).
std::string SingleDeviceShardingJson();

}  // namespace stowage::tree
