// Parsing JSON read from storage, which may be hostile. nlohmann's parser
// itself is iterative, but copying, comparing, dumping and destroying a
// parsed value recurse once per level of nesting, so a small file nested a
// million levels deep would overflow the stack after parsing succeeded.
// Every stored JSON file goes through ParseStoredJson instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stowage/error.h"

namespace stowage {

// The deepest nesting of arrays and objects a stored JSON file may have.
// Python's json module, which Orbax writes with, fails near 1000 levels too.
inline constexpr int kMaxStoredJsonDepth = 1000;

// Parses `text` as one JSON value (nlohmann::json or ordered_json). Values
// nested deeper than kMaxStoredJsonDepth are never built. Errors: kDataLoss
// naming `where` when the text is not JSON or nests too deeply.
template <typename Json>
Result<Json> ParseStoredJson(std::string_view text, std::string_view where) {
  bool too_deep = false;
  typename Json::parser_callback_t limit = [&too_deep](int depth, typename Json::parse_event_t,
                                                       Json&) {
    if (depth > kMaxStoredJsonDepth) too_deep = true;
    return !too_deep;
  };
  Json doc = Json::parse(text, limit, /*allow_exceptions=*/false);
  if (too_deep) {
    return DataLossError(std::string(where) + ": JSON nested deeper than " +
                         std::to_string(kMaxStoredJsonDepth) + " levels");
  }
  if (doc.is_discarded()) return DataLossError(std::string(where) + ": not valid JSON");
  return doc;
}

}  // namespace stowage
