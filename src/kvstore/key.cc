#include "kvstore/key.h"

#include <string>

namespace stowage::kvstore {

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid key \"" + std::string(key) + "\": " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty()) return bad("empty path component");
    if (part == "." || part == "..") return bad("\".\" or \"..\" component");
    start = end + 1;
  }
  return OkStatus();
}

std::string FolderPrefix(std::string_view dir) {
  return dir.empty() ? std::string() : std::string(dir) + "/";
}

}  // namespace stowage::kvstore
