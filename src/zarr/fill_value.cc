#include "zarr/fill_value.h"

#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <string>

namespace stowage::zarr {
namespace {

Result<double> ParseFloat(const nlohmann::json& value, std::string_view path) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return DataLossError(std::string(path) + ": fill_value " + value.dump() + " is not a number");
}

template <typename T>
Bytes BytesOf(T value) {
  Bytes bytes(sizeof(T));
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

Bytes CastOne(DType from, const Bytes& value, DType to) {
  Bytes out(ItemSize(to));
  CastElements(from, value, to, out, 1);
  return out;
}

Result<Bytes> IntegerFill(const nlohmann::json& value, DType dtype, std::string_view path) {
  auto bad = [&] {
    return DataLossError(std::string(path) + ": fill_value " + value.dump() + " does not fit " +
                         std::string(DTypeName(dtype)));
  };
  if (value.is_number_unsigned()) {
    auto v = value.get<std::uint64_t>();
    if (KindOf(dtype) == DTypeKind::kSignedInt && v > std::uint64_t(INT64_MAX)) return bad();
    return CastOne(DType::kUint64, BytesOf(v), dtype);
  }
  if (value.is_number_integer()) {
    auto v = value.get<std::int64_t>();
    if (v < 0 && KindOf(dtype) == DTypeKind::kUnsignedInt) return bad();
    return CastOne(DType::kInt64, BytesOf(v), dtype);
  }
  if (value.is_number_float()) {  // zarr-python may write 0.0 for integer arrays
    double d = value.get<double>();
    if (d != std::trunc(d)) return bad();
    return CastOne(DType::kFloat64, BytesOf(d), dtype);
  }
  return bad();
}

}  // namespace

Result<Bytes> FillValueBytes(const nlohmann::json& value, DType dtype, std::string_view path) {
  if (value.is_null()) return Bytes(ItemSize(dtype), std::byte{0});
  switch (KindOf(dtype)) {
    case DTypeKind::kBool:
      if (value.is_boolean()) return BytesOf<bool>(value.get<bool>());
      if (value.is_number()) return BytesOf<bool>(value.get<double>() != 0);
      return DataLossError(std::string(path) + ": fill_value " + value.dump() + " is not a bool");
    case DTypeKind::kSignedInt:
    case DTypeKind::kUnsignedInt:
      return IntegerFill(value, dtype, path);
    case DTypeKind::kFloat: {
      STOWAGE_ASSIGN_OR_RETURN(double d, ParseFloat(value, path));
      return CastOne(DType::kFloat64, BytesOf(d), dtype);
    }
    case DTypeKind::kComplex: {
      if (!value.is_array() || value.size() != 2) {
        return DataLossError(std::string(path) + ": complex fill_value must be [real, imag]");
      }
      STOWAGE_ASSIGN_OR_RETURN(double re, ParseFloat(value[0], path));
      STOWAGE_ASSIGN_OR_RETURN(double im, ParseFloat(value[1], path));
      return CastOne(DType::kComplex128, BytesOf(std::complex<double>(re, im)), dtype);
    }
  }
  return InternalError("unhandled dtype kind");
}

}  // namespace stowage::zarr
