// The built-in handlers for arrays and scalars, stored as zarr v2 arrays
// under the param name (orbax type_handlers.py NumpyHandler, ScalarHandler;
// jax_array_handlers.py for the "jax.Array" value_type on restore).
#pragma once

#include <memory>

#include "tree/type_handler.h"

namespace stowage::tree {

std::shared_ptr<const TypeHandler> NewNumpyHandler();
std::shared_ptr<const TypeHandler> NewScalarHandler();
std::shared_ptr<const TypeHandler> NewJaxArrayReadHandler();

}  // namespace stowage::tree
