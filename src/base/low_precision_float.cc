#include "base/low_precision_float.h"

#include "stowage/dtype.h"

namespace stowage {

float Float16ToFloat(float16_t value) { return internal::Float16BitsToFloat(value.bits); }

float16_t FloatToFloat16(double value) {
  return {static_cast<std::uint16_t>(internal::NarrowBits<internal::Float16Format>(value))};
}

float Bfloat16ToFloat(bfloat16_t value) { return internal::Bfloat16BitsToFloat(value.bits); }

bfloat16_t FloatToBfloat16(double value) {
  return {static_cast<std::uint16_t>(internal::NarrowBits<internal::Bfloat16Format>(value))};
}

float Float8E4m3fnToFloat(float8_e4m3fn_t value) {
  return internal::kFloat8E4m3fnTable[value.bits];
}

float8_e4m3fn_t FloatToFloat8E4m3fn(double value) {
  return {static_cast<std::uint8_t>(internal::NarrowBits<internal::Float8E4m3fnFormat>(value))};
}

float Float8E5m2ToFloat(float8_e5m2_t value) { return internal::kFloat8E5m2Table[value.bits]; }

float8_e5m2_t FloatToFloat8E5m2(double value) {
  return {static_cast<std::uint8_t>(internal::NarrowBits<internal::Float8E5m2Format>(value))};
}

}  // namespace stowage
