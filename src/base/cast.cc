// CastElements: one tight loop per (from, to) pair of element types.

#include <bit>
#include <cassert>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "base/low_precision_float.h"
#include "stowage/dtype.h"

namespace stowage {
namespace {

template <typename T>
inline constexpr bool kIsComplex = false;
template <typename T>
inline constexpr bool kIsComplex<std::complex<T>> = true;

// The format of each low-precision element type.
template <typename T>
struct LowFloatFormat {};
template <>
struct LowFloatFormat<float16_t> {
  using type = internal::Float16Format;
};
template <>
struct LowFloatFormat<bfloat16_t> {
  using type = internal::Bfloat16Format;
};
template <>
struct LowFloatFormat<float8_e4m3fn_t> {
  using type = internal::Float8E4m3fnFormat;
};
template <>
struct LowFloatFormat<float8_e5m2_t> {
  using type = internal::Float8E5m2Format;
};

template <typename T>
inline constexpr bool kIsLowFloat = requires {
  typename LowFloatFormat<T>::type;
};

// A low-precision float widened (exactly) to float.
STOWAGE_ALWAYS_INLINE float Widen(float16_t v) { return internal::Float16BitsToFloat(v.bits); }
STOWAGE_ALWAYS_INLINE float Widen(bfloat16_t v) { return internal::Bfloat16BitsToFloat(v.bits); }
STOWAGE_ALWAYS_INLINE float Widen(float8_e4m3fn_t v) {
  return internal::kFloat8E4m3fnTable[v.bits];
}
STOWAGE_ALWAYS_INLINE float Widen(float8_e5m2_t v) { return internal::kFloat8E5m2Table[v.bits]; }

// A 64-bit integer as a double rounded to odd: exact when it fits in 53 bits,
// otherwise the truncation with its last bit set if anything was dropped.
// Rounding that double to nearest even at <= 51 bits then equals rounding
// the integer directly.
STOWAGE_ALWAYS_INLINE double ToDoubleRoundOdd(std::uint64_t magnitude) {
  if (magnitude >> 53) {
    const int drop = std::bit_width(magnitude) - 53;
    const std::uint64_t dropped = magnitude & ((std::uint64_t{1} << drop) - 1);
    magnitude -= dropped;
    if (dropped != 0) magnitude |= std::uint64_t{1} << drop;
  }
  return static_cast<double>(magnitude);
}

template <typename I>
STOWAGE_ALWAYS_INLINE double IntToDoubleRoundOdd(I v) {
  if constexpr (std::is_signed_v<I>) {
    // Branch-free |v| and sign: signs of real data are unpredictable.
    const auto bits = static_cast<std::uint64_t>(v);
    const std::uint64_t negative = bits >> 63;
    const std::uint64_t magnitude = (bits ^ (std::uint64_t{0} - negative)) + negative;
    return std::bit_cast<double>(std::bit_cast<std::uint64_t>(ToDoubleRoundOdd(magnitude)) |
                                 (negative << 63));
  } else {
    return ToDoubleRoundOdd(v);
  }
}

// bool, an integer, float or double rounded once to the low-precision To.
template <typename To, typename From>
STOWAGE_ALWAYS_INLINE To Narrow(From v) {
  using Fmt = typename LowFloatFormat<To>::type;
  using Bits = decltype(To::bits);
  if constexpr (std::is_same_v<From, float>) {
    if constexpr (std::is_same_v<To, float16_t>) {
      return {internal::FloatToFloat16Bits(v)};
    } else if constexpr (std::is_same_v<To, bfloat16_t>) {
      return {internal::FloatToBfloat16Bits(v)};
    } else {
      return {static_cast<Bits>(internal::NarrowBits<Fmt>(v))};
    }
  } else if constexpr (std::is_same_v<From, double>) {
    return {static_cast<Bits>(internal::NarrowBits<Fmt>(v))};
  } else if constexpr (std::numeric_limits<From>::digits <= 24) {
    return Narrow<To>(static_cast<float>(v));  // exact
  } else if constexpr (std::numeric_limits<From>::digits <= 53) {
    return Narrow<To>(static_cast<double>(v));  // exact
  } else {
    return Narrow<To>(IntToDoubleRoundOdd(v));
  }
}

// Truncates toward zero; NaN gives 0 and out-of-range values saturate.
template <typename To, typename F>
STOWAGE_ALWAYS_INLINE To FloatToInt(F x) {
  using Limits = std::numeric_limits<To>;
  constexpr F kLowest = static_cast<F>(Limits::min());             // 0 or -2^(n-1): exact
  constexpr F kLimit = static_cast<F>(Limits::max() / 2 + 1) * 2;  // 2^n or 2^(n-1): exact
  constexpr F kBelowLimit = kLimit * (1 - std::numeric_limits<F>::epsilon() / 2);
  F clamped = x > kLowest ? x : kLowest;  // NaN -> kLowest
  clamped = clamped < kBelowLimit ? clamped : kBelowLimit;
  To result = static_cast<To>(clamped);
  result = x >= kLimit ? Limits::max() : result;
  return x == x ? result : To{0};
}

// One element converted with CastElements' semantics.
template <typename To, typename From>
STOWAGE_ALWAYS_INLINE To Convert(From v) {
  if constexpr (std::is_same_v<From, To>) {
    return v;
  } else if constexpr (kIsComplex<From>) {
    if constexpr (std::is_same_v<To, bool>) {
      return v.real() != 0 || v.imag() != 0;
    } else if constexpr (kIsComplex<To>) {
      using T = typename To::value_type;
      return To(static_cast<T>(v.real()), static_cast<T>(v.imag()));
    } else {
      return Convert<To>(v.real());
    }
  } else if constexpr (kIsLowFloat<From>) {
    return Convert<To>(Widen(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != 0;
  } else if constexpr (kIsComplex<To>) {
    return To(Convert<typename To::value_type>(v), 0);
  } else if constexpr (kIsLowFloat<To>) {
    return Narrow<To>(v);
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);  // from bool, an integer or a float: one rounding
  } else if constexpr (std::is_floating_point_v<From>) {
    return FloatToInt<To>(v);
  } else {
    return static_cast<To>(v);  // integer -> integer wraps modulo 2^n
  }
}

template <typename T>
STOWAGE_ALWAYS_INLINE T Load(const std::byte* p) {
  if constexpr (std::is_same_v<T, bool>) {
    return *reinterpret_cast<const unsigned char*>(p) != 0;  // any nonzero byte is true
  } else {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
}

template <typename From, typename To>
STOWAGE_ALWAYS_INLINE void CastOne(const std::byte* __restrict src, std::byte* __restrict dst,
                                   std::size_t i) {
  const To v = Convert<To>(Load<From>(src + i * sizeof(From)));
  std::memcpy(dst + i * sizeof(To), &v, sizeof(To));
}

// One function per pair, each with its conversion fully inlined.
template <typename From, typename To>
STOWAGE_NOINLINE void CastLoop(const std::byte* __restrict src, std::byte* __restrict dst,
                               std::size_t count) {
  // Blocks of a fixed size let GCC vectorize at -O2, whose cost model
  // rejects loops that need a scalar epilogue.
  constexpr std::size_t kBlock = 16;
  std::size_t i = 0;
  for (; i + kBlock <= count; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) CastOne<From, To>(src, dst, i + j);
  }
  for (; i < count; ++i) CastOne<From, To>(src, dst, i);
}

template <typename T>
struct TypeTag {
  using type = T;
};

// Calls `fn(TypeTag<T>{})` with T the C++ element type of `dtype`.
template <typename Fn>
void VisitElementType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kBool:
      return fn(TypeTag<bool>{});
    case DType::kInt8:
      return fn(TypeTag<std::int8_t>{});
    case DType::kInt16:
      return fn(TypeTag<std::int16_t>{});
    case DType::kInt32:
      return fn(TypeTag<std::int32_t>{});
    case DType::kInt64:
      return fn(TypeTag<std::int64_t>{});
    case DType::kUint8:
      return fn(TypeTag<std::uint8_t>{});
    case DType::kUint16:
      return fn(TypeTag<std::uint16_t>{});
    case DType::kUint32:
      return fn(TypeTag<std::uint32_t>{});
    case DType::kUint64:
      return fn(TypeTag<std::uint64_t>{});
    case DType::kFloat16:
      return fn(TypeTag<float16_t>{});
    case DType::kBfloat16:
      return fn(TypeTag<bfloat16_t>{});
    case DType::kFloat32:
      return fn(TypeTag<float>{});
    case DType::kFloat64:
      return fn(TypeTag<double>{});
    case DType::kComplex64:
      return fn(TypeTag<std::complex<float>>{});
    case DType::kComplex128:
      return fn(TypeTag<std::complex<double>>{});
    case DType::kFloat8E4m3fn:
      return fn(TypeTag<float8_e4m3fn_t>{});
    case DType::kFloat8E5m2:
      return fn(TypeTag<float8_e5m2_t>{});
  }
  assert(false && "unknown DType");
}

}  // namespace

void CastElements(DType from, std::span<const std::byte> src, DType to, std::span<std::byte> dst,
                  std::size_t count) {
  assert(src.size() / ItemSize(from) >= count);
  assert(dst.size() / ItemSize(to) >= count);
  if (count == 0) return;
  if (from == to) {
    std::memmove(dst.data(), src.data(), count * ItemSize(from));
    return;
  }
  VisitElementType(from, [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    VisitElementType(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      CastLoop<From, To>(src.data(), dst.data(), count);
    });
  });
}

}  // namespace stowage
