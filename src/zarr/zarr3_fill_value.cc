#include "zarr/zarr3_fill_value.h"

#include <charconv>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <limits>

namespace stowage::zarr {
namespace {

using json = nlohmann::json;

// The element type a float component is made of (complex: its halves).
DType ComponentType(DType dtype) {
  if (dtype == DType::kComplex64) return DType::kFloat32;
  if (dtype == DType::kComplex128) return DType::kFloat64;
  return dtype;
}

// TensorStore's canonical NaN bits for each float type (default_nan.h;
// ml_dtypes' quiet_NaN for the float8 types).
std::uint64_t DefaultNaNBits(DType dtype) {
  switch (dtype) {
    case DType::kFloat16:
      return 0x7e00;
    case DType::kBfloat16:
      return 0x7fc0;
    case DType::kFloat32:
      return 0x7fc00000;
    case DType::kFloat8E4m3fn:
      return 0x7f;
    case DType::kFloat8E5m2:
      return 0x7e;
    default:
      return 0x7ff8000000000000;
  }
}

std::uint64_t BitsOf(std::span<const std::byte> value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, value.data(), value.size());  // little-endian host
  return bits;
}

Bytes FromBits(std::uint64_t bits, std::size_t size) {
  Bytes out(size);
  std::memcpy(out.data(), &bits, size);
  return out;
}

Bytes FromDouble(double value, DType dtype) {
  Bytes out(ItemSize(dtype));
  CastElements(DType::kFloat64, std::as_bytes(std::span(&value, 1)), dtype, out, 1);
  return out;
}

double ToDouble(std::span<const std::byte> value, DType dtype) {
  double out;
  CastElements(dtype, value, DType::kFloat64, std::as_writable_bytes(std::span(&out, 1)), 1);
  return out;
}

Result<Bytes> ParseFloat(const json& value, DType dtype, std::string_view where) {
  std::size_t size = ItemSize(dtype);
  if (value.is_number()) return FromDouble(value.get<double>(), dtype);
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "Infinity") return FromDouble(std::numeric_limits<double>::infinity(), dtype);
    if (text == "-Infinity") return FromDouble(-std::numeric_limits<double>::infinity(), dtype);
    if (text == "NaN") return FromBits(DefaultNaNBits(dtype), size);
    std::uint64_t bits = 0;
    if (text.size() >= 3 && text.size() <= 2 + 2 * size && text[0] == '0' && text[1] == 'x') {
      auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), bits, 16);
      if (ec == std::errc() && end == text.data() + text.size()) return FromBits(bits, size);
    }
  }
  return DataLossError(std::string(where) + ": fill_value " + value.dump() +
                       " is not a number, \"Infinity\", \"-Infinity\", \"NaN\" or a hex string "
                       "for " +
                       std::string(DTypeName(dtype)));
}

Result<Bytes> ParseInteger(const json& value, DType dtype, std::string_view where) {
  auto bad = [&] {
    return DataLossError(std::string(where) + ": fill_value " + value.dump() + " does not fit " +
                         std::string(DTypeName(dtype)));
  };
  bool is_signed = KindOf(dtype) == DTypeKind::kSignedInt;
  int bits = static_cast<int>(ItemSize(dtype) * 8);
  if (value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
    std::uint64_t v = value.get<std::uint64_t>();
    std::uint64_t max = is_signed
                            ? (std::uint64_t{1} << (bits - 1)) - 1
                            : (bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1);
    if (v > max) return bad();
    return FromBits(v, ItemSize(dtype));
  }
  if (value.is_number_integer()) {  // negative
    std::int64_t v = value.get<std::int64_t>();
    if (!is_signed || (bits < 64 && v < -(std::int64_t{1} << (bits - 1)))) return bad();
    return FromBits(static_cast<std::uint64_t>(v), ItemSize(dtype));
  }
  return bad();
}

json FloatToJson(std::span<const std::byte> value, DType dtype) {
  double d = ToDouble(value, dtype);
  if (std::isfinite(d)) return d;
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  std::uint64_t bits = BitsOf(value);
  if (bits == DefaultNaNBits(dtype)) return "NaN";
  char text[24];
  std::snprintf(text, sizeof(text), "0x%0*llx", static_cast<int>(value.size() * 2),
                static_cast<unsigned long long>(bits));
  return text;
}

}  // namespace

std::string Zarr3DTypeName(DType dtype) { return std::string(DTypeName(dtype)); }

Result<DType> ParseZarr3DType(const json& data_type, std::string_view where) {
  if (data_type.is_string()) {
    const auto& name = data_type.get_ref<const std::string&>();
    for (DType dtype : kAllDTypes) {
      if (name == DTypeName(dtype)) return dtype;
    }
  }
  return UnsupportedError(std::string(where) + ": zarr3 data_type " + data_type.dump() +
                          " is not supported");
}

Result<Bytes> ParseZarr3FillValue(const json& value, DType dtype, std::string_view where) {
  switch (KindOf(dtype)) {
    case DTypeKind::kBool:
      if (!value.is_boolean()) {
        return DataLossError(std::string(where) + ": fill_value " + value.dump() +
                             " is not a bool");
      }
      return FromBits(value.get<bool>() ? 1 : 0, 1);
    case DTypeKind::kSignedInt:
    case DTypeKind::kUnsignedInt:
      return ParseInteger(value, dtype, where);
    case DTypeKind::kFloat:
      return ParseFloat(value, dtype, where);
    case DTypeKind::kComplex: {
      if (!value.is_array() || value.size() != 2) {
        return DataLossError(std::string(where) + ": complex fill_value must be [real, imag]");
      }
      DType part = ComponentType(dtype);
      STOWAGE_ASSIGN_OR_RETURN(Bytes re, ParseFloat(value[0], part, where));
      STOWAGE_ASSIGN_OR_RETURN(Bytes im, ParseFloat(value[1], part, where));
      re.insert(re.end(), im.begin(), im.end());
      return re;
    }
  }
  return InternalError("unhandled dtype kind");
}

json Zarr3FillValueToJson(std::span<const std::byte> value, DType dtype) {
  switch (KindOf(dtype)) {
    case DTypeKind::kBool:
      return value[0] != std::byte{0};
    case DTypeKind::kSignedInt: {
      std::uint64_t bits = BitsOf(value);
      int shift = static_cast<int>(64 - 8 * value.size());
      return static_cast<std::int64_t>(bits << shift) >> shift;  // sign-extend
    }
    case DTypeKind::kUnsignedInt:
      return BitsOf(value);
    case DTypeKind::kFloat:
      return FloatToJson(value, dtype);
    case DTypeKind::kComplex: {
      DType part = ComponentType(dtype);
      std::size_t half = value.size() / 2;
      return json::array(
          {FloatToJson(value.first(half), part), FloatToJson(value.subspan(half), part)});
    }
  }
  return nullptr;
}

}  // namespace stowage::zarr
