// zarr v2 "dtype" strings as TensorStore writes and reads them:
// NumPy typestrs ("<f4", "|b1", ">i8") and, without a byte-order prefix,
// the ml_dtypes names "bfloat16", "float8_e4m3fn", "float8_e5m2".
// Source: tensorstore/driver/zarr/dtype.cc (ChooseBaseDType, ParseBaseDType).
#pragma once

#include <string>
#include <string_view>

#include "stowage/dtype.h"
#include "stowage/error.h"

namespace stowage::zarr {

struct ZarrDType {
  DType dtype;
  bool big_endian = false;  // only meaningful for multi-byte types
};

// The string TensorStore writes for `dtype` (little-endian): "<f4", "|b1",
// "bfloat16", ...
std::string ZarrDTypeString(DType dtype);

// Parses a zarr v2 dtype string. Errors: kUnsupported for valid NumPy
// typestrs stowage does not store (structured, "|V", "<M8", "|S"), naming it.
Result<ZarrDType> ParseZarrDType(std::string_view text);

}  // namespace stowage::zarr
