#include "zarr/dtype_names.h"

namespace stowage::zarr {
namespace {

struct TypestrEntry {
  char kind;
  std::size_t size;
  DType dtype;
};

constexpr TypestrEntry kTypestrs[] = {
    {'b', 1, DType::kBool},      {'i', 1, DType::kInt8},        {'i', 2, DType::kInt16},
    {'i', 4, DType::kInt32},     {'i', 8, DType::kInt64},       {'u', 1, DType::kUint8},
    {'u', 2, DType::kUint16},    {'u', 4, DType::kUint32},      {'u', 8, DType::kUint64},
    {'f', 2, DType::kFloat16},   {'f', 4, DType::kFloat32},     {'f', 8, DType::kFloat64},
    {'c', 8, DType::kComplex64}, {'c', 16, DType::kComplex128},
};

bool IsNamedWithoutTypestr(DType dtype) {
  return dtype == DType::kBfloat16 || dtype == DType::kFloat8E4m3fn || dtype == DType::kFloat8E5m2;
}

}  // namespace

std::string ZarrDTypeString(DType dtype) {
  if (IsNamedWithoutTypestr(dtype)) return std::string(DTypeName(dtype));
  for (const auto& entry : kTypestrs) {
    if (entry.dtype == dtype) {
      char order = entry.size == 1 ? '|' : '<';
      return std::string(1, order) + entry.kind + std::to_string(entry.size);
    }
  }
  return "?";  // unreachable: every DType is covered above
}

Result<ZarrDType> ParseZarrDType(std::string_view text) {
  for (DType named : {DType::kBfloat16, DType::kFloat8E4m3fn, DType::kFloat8E5m2}) {
    if (text == DTypeName(named)) return ZarrDType{named, false};
  }
  auto unsupported = [&] {
    return UnsupportedError("zarr dtype \"" + std::string(text) + "\" is not supported");
  };
  if (text.size() < 3) return unsupported();
  char order = text[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') return unsupported();
  char kind = text[1];
  std::size_t size = 0;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9' || size > 1000) return unsupported();
    size = size * 10 + static_cast<std::size_t>(c - '0');
  }
  for (const auto& entry : kTypestrs) {
    if (entry.kind == kind && entry.size == size) {
      if (order == '|' && size > 1) return unsupported();
      return ZarrDType{entry.dtype, order == '>'};
    }
  }
  return unsupported();
}

}  // namespace stowage::zarr
