// Reading numcodecs parameters out of a zarr v2 "compressor" object, which
// comes from a `.zarray` on disk: a wrong-typed or out-of-range field is
// reported as kDataLoss naming the codec id and the field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stowage/error.h"

namespace stowage::codec::internal {

// Field `name` of `config` as an integer in [min, max]; `default_value` when
// the field is absent. JSON floats and booleans are not integers here.
Result<std::int64_t> IntParam(const nlohmann::json& config, std::string_view codec,
                              std::string_view name, std::int64_t default_value, std::int64_t min,
                              std::int64_t max);

// Field `name` of `config` as a boolean; `default_value` when absent.
Result<bool> BoolParam(const nlohmann::json& config, std::string_view codec, std::string_view name,
                       bool default_value);

// Field `name` of `config` as a string; `default_value` when absent.
Result<std::string> StringParam(const nlohmann::json& config, std::string_view codec,
                                std::string_view name, std::string_view default_value);

// A JSON value rendered for an error message, cut to a few dozen characters.
std::string DescribeJson(const nlohmann::json& value);

// kDataLoss "<codec>: <what>", for decoders' complaints about their input.
Error CodecDataLoss(std::string_view codec, std::string_view what);

// OkStatus when `decoded` == `expected`, else kDataLoss saying both sizes.
Status CheckDecodedSize(std::string_view codec, std::size_t decoded, std::size_t expected);

}  // namespace stowage::codec::internal
