// The one place where errno becomes an ErrorCode.
#pragma once

#include <filesystem>
#include <string_view>

#include "stowage/error.h"

namespace stowage::kvstore {

// An Error for `errnum` from `operation` on `path`: ENOENT/ENOTDIR ->
// kNotFound, ENOSPC/EDQUOT -> kResourceExhausted, EEXIST/ENOTEMPTY ->
// kAlreadyExists, anything else -> kIo. The message names the path.
Error OsError(int errnum, std::string_view operation, const std::filesystem::path& path);

}  // namespace stowage::kvstore
