// zarr v3 data type names and fill values as TensorStore reads and writes
// them (tensorstore/driver/zarr3/dtype.cc ParseBaseDType; metadata.cc
// FillValueJsonBinder, FloatFillValueJsonBinder; default_nan.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "stowage/dtype.h"
#include "stowage/error.h"

namespace stowage::zarr {

// The "data_type" name of `dtype` ("int32", "bfloat16", "float8_e4m3fn").
std::string Zarr3DTypeName(DType dtype);

// Parses a "data_type". Errors: kUnsupported, naming it, for valid zarr3
// types stowage does not store (r<N>, int4, other float8s, struct) or
// unknown names; `where` prefixes the message.
Result<DType> ParseZarr3DType(const nlohmann::json& data_type, std::string_view where);

// One element of `dtype` (native little-endian) from a "fill_value":
// integers and bools as JSON numbers/bools; floats as numbers, "Infinity",
// "-Infinity", "NaN" (the type's canonical NaN) or "0x<hex>" raw bits of at
// most 2 x size digits; complex as [real, imag]. Errors: kDataLoss naming
// `where` when the value is malformed or out of range.
Result<Bytes> ParseZarr3FillValue(const nlohmann::json& fill_value, DType dtype,
                                  std::string_view where);

// The JSON TensorStore writes for the fill element `value` (ItemSize(dtype)
// bytes): finite floats as numbers (via double), infinities by name, the
// canonical NaN as "NaN", any other NaN as "0x" + lowercase zero-padded hex.
nlohmann::json Zarr3FillValueToJson(std::span<const std::byte> value, DType dtype);

}  // namespace stowage::zarr
