// stowage layer: base
//
// The element types stowage stores, with NumPy's (and ml_dtypes') names.
// In memory every element is native little-endian; the low-precision floats
// are stored as their raw bit patterns in the tiny structs below.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "stowage/error.h"

namespace stowage {

enum class DType : std::uint8_t {
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kFloat16,
  kBfloat16,
  kFloat32,
  kFloat64,
  kComplex64,
  kComplex128,
  kFloat8E4m3fn,
  kFloat8E5m2,
};

// Every DType, in declaration order.
inline constexpr DType kAllDTypes[] = {
    DType::kBool,         DType::kInt8,      DType::kInt16,   DType::kInt32,     DType::kInt64,
    DType::kUint8,        DType::kUint16,    DType::kUint32,  DType::kUint64,    DType::kFloat16,
    DType::kBfloat16,     DType::kFloat32,   DType::kFloat64, DType::kComplex64, DType::kComplex128,
    DType::kFloat8E4m3fn, DType::kFloat8E5m2};

// Bytes per element.
std::size_t ItemSize(DType dtype);

// NumPy's name: "bool", "int32", "float32", "bfloat16", "float8_e4m3fn", ...
std::string_view DTypeName(DType dtype);

// The DType named `name` (NumPy names as above), or kInvalidArgument.
Result<DType> ParseDTypeName(std::string_view name);

enum class DTypeKind { kBool, kSignedInt, kUnsignedInt, kFloat, kComplex };
DTypeKind KindOf(DType dtype);

// Raw-bit storage for the element types C++20 has no type for.
struct float16_t {
  std::uint16_t bits;
};
struct bfloat16_t {
  std::uint16_t bits;
};
struct float8_e4m3fn_t {
  std::uint8_t bits;
};
struct float8_e5m2_t {
  std::uint8_t bits;
};

// Maps a C++ element type to its DType (used by typed accessors).
template <typename T>
struct DTypeOf;
#define STOWAGE_DTYPE_OF(T, D)        \
  template <>                         \
  struct DTypeOf<T> {                 \
    static constexpr DType value = D; \
  }
STOWAGE_DTYPE_OF(bool, DType::kBool);
STOWAGE_DTYPE_OF(std::int8_t, DType::kInt8);
STOWAGE_DTYPE_OF(std::int16_t, DType::kInt16);
STOWAGE_DTYPE_OF(std::int32_t, DType::kInt32);
STOWAGE_DTYPE_OF(std::int64_t, DType::kInt64);
STOWAGE_DTYPE_OF(std::uint8_t, DType::kUint8);
STOWAGE_DTYPE_OF(std::uint16_t, DType::kUint16);
STOWAGE_DTYPE_OF(std::uint32_t, DType::kUint32);
STOWAGE_DTYPE_OF(std::uint64_t, DType::kUint64);
STOWAGE_DTYPE_OF(float16_t, DType::kFloat16);
STOWAGE_DTYPE_OF(bfloat16_t, DType::kBfloat16);
STOWAGE_DTYPE_OF(float, DType::kFloat32);
STOWAGE_DTYPE_OF(double, DType::kFloat64);
STOWAGE_DTYPE_OF(std::complex<float>, DType::kComplex64);
STOWAGE_DTYPE_OF(std::complex<double>, DType::kComplex128);
STOWAGE_DTYPE_OF(float8_e4m3fn_t, DType::kFloat8E4m3fn);
STOWAGE_DTYPE_OF(float8_e5m2_t, DType::kFloat8E5m2);
#undef STOWAGE_DTYPE_OF

template <typename T>
inline constexpr DType kDTypeOf = DTypeOf<T>::value;

// Converts `count` elements from `src` (of type `from`) into `dst` (of type
// `to`) with NumPy's casting semantics (ml_dtypes' for bfloat16 and float8):
// floats round to nearest even; float -> float8_e4m3fn overflow gives NaN,
// float -> float8_e5m2 overflow gives +-inf; complex -> real drops the
// imaginary part; anything -> bool is `!= 0`. Where NumPy's result is
// undefined (NaN or out-of-range float -> integer) stowage saturates to the
// integer's range and maps NaN to 0. `src` and `dst` must hold `count`
// elements each and must not overlap unless `from == to`.
void CastElements(DType from, std::span<const std::byte> src, DType to, std::span<std::byte> dst,
                  std::size_t count);

// Scalar conversions used by CastElements, exposed for tests and callers.
float Float16ToFloat(float16_t value);
float16_t FloatToFloat16(double value);
float Bfloat16ToFloat(bfloat16_t value);
bfloat16_t FloatToBfloat16(double value);
float Float8E4m3fnToFloat(float8_e4m3fn_t value);
float8_e4m3fn_t FloatToFloat8E4m3fn(double value);
float Float8E5m2ToFloat(float8_e5m2_t value);
float8_e5m2_t FloatToFloat8E5m2(double value);

}  // namespace stowage
