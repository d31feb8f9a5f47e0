#include "stowage/dtype.h"

#include <string>

namespace stowage {

namespace {
struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t item_size;
  DTypeKind kind;
};

constexpr DTypeInfo kInfo[] = {
    {DType::kBool, "bool", 1, DTypeKind::kBool},
    {DType::kInt8, "int8", 1, DTypeKind::kSignedInt},
    {DType::kInt16, "int16", 2, DTypeKind::kSignedInt},
    {DType::kInt32, "int32", 4, DTypeKind::kSignedInt},
    {DType::kInt64, "int64", 8, DTypeKind::kSignedInt},
    {DType::kUint8, "uint8", 1, DTypeKind::kUnsignedInt},
    {DType::kUint16, "uint16", 2, DTypeKind::kUnsignedInt},
    {DType::kUint32, "uint32", 4, DTypeKind::kUnsignedInt},
    {DType::kUint64, "uint64", 8, DTypeKind::kUnsignedInt},
    {DType::kFloat16, "float16", 2, DTypeKind::kFloat},
    {DType::kBfloat16, "bfloat16", 2, DTypeKind::kFloat},
    {DType::kFloat32, "float32", 4, DTypeKind::kFloat},
    {DType::kFloat64, "float64", 8, DTypeKind::kFloat},
    {DType::kComplex64, "complex64", 8, DTypeKind::kComplex},
    {DType::kComplex128, "complex128", 16, DTypeKind::kComplex},
    {DType::kFloat8E4m3fn, "float8_e4m3fn", 1, DTypeKind::kFloat},
    {DType::kFloat8E5m2, "float8_e5m2", 1, DTypeKind::kFloat},
};

const DTypeInfo& Info(DType dtype) { return kInfo[static_cast<int>(dtype)]; }
}  // namespace

std::size_t ItemSize(DType dtype) { return Info(dtype).item_size; }
std::string_view DTypeName(DType dtype) { return Info(dtype).name; }
DTypeKind KindOf(DType dtype) { return Info(dtype).kind; }

Result<DType> ParseDTypeName(std::string_view name) {
  for (const auto& info : kInfo) {
    if (info.name == name) return info.dtype;
  }
  return InvalidArgumentError("unknown dtype \"" + std::string(name) +
                              "\" (expected a NumPy name such as float32, int64, bfloat16)");
}

}  // namespace stowage
