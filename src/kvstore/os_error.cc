#include "kvstore/os_error.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace stowage::kvstore {

Error OsError(int errnum, std::string_view operation, const std::filesystem::path& path) {
  std::string message = std::string(operation) + " " + path.string() + ": " + std::strerror(errnum);
  switch (errnum) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(message));
    case EEXIST:
    case ENOTEMPTY:
      return AlreadyExistsError(std::move(message));
    default:
      return IoError(std::move(message));
  }
}

}  // namespace stowage::kvstore
