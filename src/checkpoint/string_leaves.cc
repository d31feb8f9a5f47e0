#include "checkpoint/string_leaves.h"

#include "base/bytes.h"
#include "base/stored_json.h"

namespace stowage::checkpoint {
namespace {

Result<nlohmann::json::json_pointer> PointerOf(const std::string& param_name) {
  if (param_name.find('~') != std::string::npos) {
    return InvalidArgumentError("string leaf \"" + param_name +
                                "\": '~' cannot appear in Orbax's _strings.json pointer");
  }
  return nlohmann::json::json_pointer("/" + param_name);
}

}  // namespace

Status AddStringLeaf(nlohmann::json& strings, const std::string& param_name, std::string value) {
  STOWAGE_ASSIGN_OR_RETURN(auto pointer, PointerOf(param_name));
  try {
    if (strings.contains(pointer)) {
      return InvalidArgumentError("string leaf \"" + param_name + "\" collides with another");
    }
    strings[pointer] = std::move(value);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError("string leaf \"" + param_name + "\": " + e.what());
  }
  return OkStatus();
}

Result<std::string> ReadStringLeaf(const kvstore::Store& files, const std::string& param_name) {
  std::string file(kStringsFile);
  STOWAGE_ASSIGN_OR_RETURN(Bytes text, files.Read(file, {.max_bytes = 1u << 30}));
  STOWAGE_ASSIGN_OR_RETURN(
      auto strings, ParseStoredJson<nlohmann::json>(AsStringView(text), files.Describe(file)));
  STOWAGE_ASSIGN_OR_RETURN(auto pointer, PointerOf(param_name));
  try {
    if (!strings.contains(pointer)) {
      return NotFoundError(files.Describe(file) + " has no string \"" + param_name + "\"");
    }
    const auto& value = strings.at(pointer);
    if (!value.is_string()) {
      return DataLossError(files.Describe(file) + ": \"" + param_name + "\" is not a string");
    }
    return value.get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(files.Describe(file) + ": \"" + param_name + "\": " + e.what());
  }
}

}  // namespace stowage::checkpoint
