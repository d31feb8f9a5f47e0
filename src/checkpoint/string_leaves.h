// String leaves, as Orbax's StringHandler stores them (orbax
// `type_handlers.py`; orbax-format.md §3.8): one compact JSON object
// `_strings.json` in the checkpoint directory, each string at the JSON
// pointer "/<param name>" (so a '/' in a name nests).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "stowage/kvstore.h"

namespace stowage::checkpoint {

inline constexpr std::string_view kStringsFile = "_strings.json";

// Places `value` at "/<param_name>" in `strings`, creating parents.
// Errors: kInvalidArgument when the name is not a usable JSON pointer ('~')
// or collides with another string.
Status AddStringLeaf(nlohmann::json& strings, const std::string& param_name, std::string value);

// The string stored for `param_name` in `_strings.json` of `files` (the
// checkpoint directory). Errors: kNotFound naming the file and the name,
// kDataLoss (not JSON, or not a string there).
Result<std::string> ReadStringLeaf(const kvstore::Store& files, const std::string& param_name);

}  // namespace stowage::checkpoint
