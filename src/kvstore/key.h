// Rules every store applies to keys.
#pragma once

#include <string>
#include <string_view>

#include "stowage/error.h"

namespace stowage::kvstore {

// OK for a relative '/'-separated key without empty, "." or ".." components
// or NUL bytes; kInvalidArgument naming the key otherwise.
Status ValidateKey(std::string_view key);

// The key prefix of the folder `dir`: "" for the store's top, else "dir/".
std::string FolderPrefix(std::string_view dir);

}  // namespace stowage::kvstore
