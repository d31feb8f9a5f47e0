// JSON text byte-identical to what Orbax's Python writes with `json.dumps`
// (separators ", " and ": ", keys in insertion order, non-ASCII escaped as
// \uXXXX, floats as Python's repr), and Python's repr of a tuple of strings
// (the `_METADATA` tree keys such as "('a', 'b')").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace stowage {

// json.dumps(value) as Python writes it.
std::string DumpPythonJson(const nlohmann::ordered_json& value);

// repr(float(value)) as Python writes it: "1.0", "0.1", "1e-05", "inf".
std::string PythonFloatRepr(double value);

// repr(str(value)): quotes as Python chooses them, with Python's escapes.
std::string PythonStringRepr(std::string_view value);

// repr(tuple(items)): "()", "('a',)", "('a', 'b')".
std::string PythonTupleRepr(const std::vector<std::string>& items);

}  // namespace stowage
