// zarr v2 fill values: the JSON "fill_value" of a `.zarray` decoded to one
// element's bytes (native little-endian). null means zeros; floats may be
// "NaN", "Infinity", "-Infinity"; complex values are [real, imag].
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/bytes.h"
#include "stowage/dtype.h"
#include "stowage/error.h"

namespace stowage::zarr {

// One element of `dtype` holding `fill_value`. Errors: kDataLoss naming
// `path` when the value does not fit the dtype or is malformed.
Result<Bytes> FillValueBytes(const nlohmann::json& fill_value, DType dtype, std::string_view path);

}  // namespace stowage::zarr
