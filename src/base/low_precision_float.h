// Bit-level conversions between float/double and the low-precision floats
// (float16, bfloat16, float8_e4m3fn, float8_e5m2). Internal to stowage; the
// public entry points are the scalar functions in stowage/dtype.h.
//
// Every narrowing conversion here rounds once, to nearest with ties to even,
// straight from the source value; widening is exact.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <type_traits>

// Forces inlining into the per-dtype-pair loops, which GCC otherwise leaves
// as calls once a translation unit holds hundreds of them.
#if defined(__GNUC__)
#define STOWAGE_ALWAYS_INLINE inline __attribute__((always_inline))
#define STOWAGE_NOINLINE __attribute__((noinline))
#else
#define STOWAGE_ALWAYS_INLINE inline
#define STOWAGE_NOINLINE
#endif

namespace stowage::internal {

// A binary floating-point format of at most 16 bits.
template <int kExponentBits, int kMantissaBits, bool kHasInfinity>
struct SmallFloatFormat {
  static constexpr int kExpBits = kExponentBits;
  static constexpr int kManBits = kMantissaBits;
  static constexpr int kBias = (1 << (kExponentBits - 1)) - 1;
  // IEEE-like formats reserve the all-ones exponent for inf and NaN. Formats
  // without infinity ("fn") use it for normals too, except the all-ones
  // pattern, which is their only NaN.
  static constexpr bool kHasInf = kHasInfinity;
  static constexpr std::uint32_t kSignBit = 1u << (kExponentBits + kMantissaBits);
  static constexpr std::uint32_t kManMask = (1u << kMantissaBits) - 1;
  static constexpr std::uint32_t kExpMask = ((1u << kExponentBits) - 1) << kMantissaBits;
  static constexpr std::uint32_t kInfBits = kExpMask;  // meaningful only when kHasInf
  static constexpr std::uint32_t kNanBits =
      kHasInfinity ? (kExpMask | (1u << (kMantissaBits - 1))) : (kExpMask | kManMask);
  static constexpr std::uint32_t kMaxFiniteBits =
      kHasInfinity ? kExpMask - 1 : (kExpMask | kManMask) - 1;
  // What a finite value too large for the format becomes (sign added later).
  static constexpr std::uint32_t kOverflowBits = kHasInfinity ? kInfBits : kNanBits;
};

using Float16Format = SmallFloatFormat<5, 10, true>;
using Bfloat16Format = SmallFloatFormat<8, 7, true>;
using Float8E4m3fnFormat = SmallFloatFormat<4, 3, false>;
using Float8E5m2Format = SmallFloatFormat<5, 2, true>;

template <typename T>
struct SourceFloatTraits;
template <>
struct SourceFloatTraits<float> {
  using Bits = std::uint32_t;
  static constexpr int kWidth = 32;
  static constexpr int kManBits = 23;
  static constexpr int kBias = 127;
};
template <>
struct SourceFloatTraits<double> {
  using Bits = std::uint64_t;
  static constexpr int kWidth = 64;
  static constexpr int kManBits = 52;
  static constexpr int kBias = 1023;
};

// `value >> shift` rounded to nearest, ties to even. REQUIRES: 0 < shift and
// `value + 2^(shift-1)` does not overflow U.
template <typename U>
STOWAGE_ALWAYS_INLINE constexpr U ShiftRightRoundEven(U value, int shift) {
  const U half_minus_one = (U{1} << (shift - 1)) - 1;
  return (value + half_minus_one + ((value >> shift) & 1)) >> shift;
}

// The bits of `x` in format Fmt. NaN keeps its sign (and, for IEEE-like
// formats, the top payload bits, made quiet); values beyond the largest
// finite one become Fmt::kOverflowBits with x's sign.
template <typename Fmt, typename Src>
STOWAGE_ALWAYS_INLINE constexpr std::uint32_t NarrowBits(Src x) {
  using Traits = SourceFloatTraits<Src>;
  using U = typename Traits::Bits;
  constexpr int kShift = Traits::kManBits - Fmt::kManBits;
  constexpr U kSrcSignBit = U{1} << (Traits::kWidth - 1);
  constexpr U kSrcManMask = (U{1} << Traits::kManBits) - 1;
  constexpr U kSrcInf = ~kSrcSignBit & ~kSrcManMask;
  // The source exponent field of Fmt's smallest normal number.
  constexpr int kMinNormalField = Traits::kBias - Fmt::kBias + 1;
  static_assert(kShift > 0 && kMinNormalField >= 1);

  const U bits = std::bit_cast<U>(x);
  const auto sign = static_cast<std::uint32_t>(bits >> (Traits::kWidth - 1))
                    << (Fmt::kExpBits + Fmt::kManBits);
  const U abs = bits & ~kSrcSignBit;
  if (abs >= kSrcInf) {
    if (abs == kSrcInf) return sign | Fmt::kOverflowBits;
    if constexpr (Fmt::kHasInf) {
      return sign | Fmt::kNanBits | static_cast<std::uint32_t>((abs & kSrcManMask) >> kShift);
    } else {
      return sign | Fmt::kNanBits;
    }
  }
  const int field = static_cast<int>(abs >> Traits::kManBits);
  U rounded;
  if (field >= kMinNormalField) {
    // Rebias the exponent in place; a mantissa carry correctly bumps it.
    rounded = ShiftRightRoundEven<U>(abs - (U(kMinNormalField - 1) << Traits::kManBits), kShift);
  } else {
    // Subnormal (or zero) in Fmt: count units of Fmt's smallest subnormal.
    const U significand = (abs & kSrcManMask) | (field ? kSrcManMask + 1 : 0);
    const int shift = kShift + kMinNormalField - (field ? field : 1);
    rounded = shift > Traits::kManBits + 1 ? 0 : ShiftRightRoundEven<U>(significand, shift);
  }
  if (rounded > Fmt::kMaxFiniteBits) return sign | Fmt::kOverflowBits;
  return sign | static_cast<std::uint32_t>(rounded);
}

// The exact float value of `bits` in format Fmt. IEEE-like NaNs keep their
// payload; the fn formats' NaN becomes a quiet NaN. Sign is kept throughout.
template <typename Fmt>
constexpr float WidenBits(std::uint32_t bits) {
  const std::uint32_t sign = (bits & Fmt::kSignBit) ? 0x80000000u : 0;
  const std::uint32_t field = (bits & Fmt::kExpMask) >> Fmt::kManBits;
  const std::uint32_t man = bits & Fmt::kManMask;
  constexpr int kManShift = 23 - Fmt::kManBits;
  std::uint32_t out;
  const std::uint32_t abs = bits & ~Fmt::kSignBit;
  if (Fmt::kHasInf ? abs >= Fmt::kInfBits : abs == Fmt::kNanBits) {
    out = Fmt::kHasInf ? (0x7F800000u | (man << kManShift)) : 0x7FC00000u;
  } else if (field != 0) {
    out = ((field + 127 - Fmt::kBias) << 23) | (man << kManShift);
  } else if constexpr (Fmt::kBias >= 127) {
    // Fmt's subnormals are float subnormals too.
    static_assert(Fmt::kBias == 127);
    out = man << kManShift;
  } else if (man != 0) {
    // Subnormal in Fmt, normal in float: make the leading one implicit.
    static_assert(Fmt::kBias + Fmt::kManBits <= 127);
    const int top = std::bit_width(man) - 1;
    const std::uint32_t exponent =
        static_cast<std::uint32_t>(top + 1 - Fmt::kBias - Fmt::kManBits + 127);
    out = (exponent << 23) | ((man << (23 - top)) & 0x7FFFFFu);
  } else {
    out = 0;
  }
  return std::bit_cast<float>(out | sign);
}

// Fast paths for the common float32 <-> 16-bit conversions: the same results
// as NarrowBits/WidenBits, computed with selects rather than branches, and
// correct whether or not the FPU flushes subnormals.

// `condition ? a : b` as bit operations, so that the compiler keeps both
// sides unconditional (and the loops vectorizable).
STOWAGE_ALWAYS_INLINE std::uint32_t Select(bool condition, std::uint32_t a, std::uint32_t b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(condition);
  return (a & mask) | (b & ~mask);
}

STOWAGE_ALWAYS_INLINE std::uint16_t FloatToBfloat16Bits(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t rounded = ShiftRightRoundEven<std::uint32_t>(bits, 16);
  const std::uint32_t nan = (bits >> 16) | 0x40u;
  return static_cast<std::uint16_t>((bits & 0x7FFFFFFFu) > 0x7F800000u ? nan : rounded);
}

STOWAGE_ALWAYS_INLINE float Bfloat16BitsToFloat(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

STOWAGE_ALWAYS_INLINE std::uint16_t FloatToFloat16Bits(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t abs = bits & 0x7FFFFFFFu;
  // |x| >= 2^-14: rebias from 127 to 15 and round off 13 mantissa bits.
  const std::uint32_t normal = ShiftRightRoundEven<std::uint32_t>(abs - (112u << 23), 13);
  // |x| < 2^-14: adding 0.5 (whose ulp is 2^-24, float16's smallest
  // subnormal) makes the FPU round to the subnormal grid; the sum is normal.
  const std::uint32_t subnormal =
      std::bit_cast<std::uint32_t>(std::bit_cast<float>(abs) + 0.5f) - 0x3F000000u;
  const std::uint32_t nan = 0x7E00u | ((abs >> 13) & 0x3FFu);
  std::uint32_t result = Select(abs < 0x38800000u, subnormal, normal);
  result = Select(abs >= 0x47800000u, 0x7C00u, result);  // |x| >= 65536 (or inf)
  result = Select(abs > 0x7F800000u, nan, result);
  return static_cast<std::uint16_t>(sign | result);
}

STOWAGE_ALWAYS_INLINE float Float16BitsToFloat(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t abs = bits & 0x7FFFu;
  const std::uint32_t normal = (abs << 13) + (112u << 23);
  // Subnormal: an integer count of 2^-24, computed without subnormal floats.
  const std::uint32_t subnormal =
      std::bit_cast<std::uint32_t>(static_cast<float>(static_cast<std::int32_t>(abs)) * 0x1p-24f);
  const std::uint32_t special = (abs << 13) | 0x7F800000u;
  std::uint32_t result = Select(abs < 0x0400u, subnormal, normal);
  result = Select(abs >= 0x7C00u, special, result);
  return std::bit_cast<float>(sign | result);
}

// Decoding tables for the 8-bit formats, indexed by bit pattern.
template <typename Fmt>
constexpr std::array<float, 256> MakeFloat8Table() {
  std::array<float, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) table[i] = WidenBits<Fmt>(i);
  return table;
}
inline constexpr std::array<float, 256> kFloat8E4m3fnTable = MakeFloat8Table<Float8E4m3fnFormat>();
inline constexpr std::array<float, 256> kFloat8E5m2Table = MakeFloat8Table<Float8E5m2Format>();

}  // namespace stowage::internal
