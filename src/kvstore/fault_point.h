// Where the file primitives meet fault injection (stowage/fault_injection.h).
#pragma once

#include <filesystem>
#include <functional>

#include "stowage/fault_injection.h"

namespace stowage::kvstore::internal {

// OK when no injector is installed or the installed one lets `op` on `path`
// pass; otherwise the injected kIo (or the process dies). `torn` runs first
// at a fault.
Status FileFault(FaultOp op, const std::filesystem::path& path,
                 const std::function<void()>& torn = {});

// False when the installed injector says fsyncs only count.
bool FsyncReachesDisk();

}  // namespace stowage::kvstore::internal
