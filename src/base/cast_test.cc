#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/low_precision_float.h"
#include "stowage/array.h"
#include "stowage/dtype.h"

namespace stowage {
namespace {

using internal::Bfloat16Format;
using internal::Float16Format;
using internal::Float8E4m3fnFormat;
using internal::Float8E5m2Format;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// Vectors hold bool elements as bytes (std::vector<bool> has no data()).
template <typename T>
using Storage = std::conditional_t<std::is_same_v<T, bool>, std::uint8_t, T>;

// `in` cast to To through CastElements.
template <typename To, typename From>
std::vector<Storage<To>> Cast(const std::vector<Storage<From>>& in) {
  std::vector<Storage<To>> out(in.size());
  CastElements(kDTypeOf<From>, std::as_bytes(std::span(in)), kDTypeOf<To>,
               std::as_writable_bytes(std::span(out)), in.size());
  return out;
}

std::uint32_t FloatBits(float f) { return std::bit_cast<std::uint32_t>(f); }
std::uint64_t DoubleBits(double d) { return std::bit_cast<std::uint64_t>(d); }

// ---------------------------------------------------------------------------
// An independent reference for narrowing: the format's finite non-negative
// values in order (their bit patterns are their indices), searched for the
// nearest, ties to the even pattern. The pattern just past the largest finite
// one stands for overflow, at the value an unbounded exponent would give it.

struct SmallFormat {
  std::string name;
  DType dtype;
  int width;                                    // 8 or 16
  std::function<float(std::uint32_t)> widen;    // the public decoder
  std::function<std::uint32_t(double)> narrow;  // the public encoder
  std::uint32_t max_finite;
  std::uint32_t overflow;   // what overflow gives: inf or NaN
  std::uint32_t quiet_bit;  // of IEEE-like NaNs; 0 when the format has one NaN
};

SmallFormat Float16() {
  return {"float16",
          DType::kFloat16,
          16,
          [](std::uint32_t b) { return Float16ToFloat({static_cast<std::uint16_t>(b)}); },
          [](double x) -> std::uint32_t { return FloatToFloat16(x).bits; },
          0x7BFF,
          0x7C00,
          0x200};
}
SmallFormat Bfloat16() {
  return {"bfloat16",
          DType::kBfloat16,
          16,
          [](std::uint32_t b) { return Bfloat16ToFloat({static_cast<std::uint16_t>(b)}); },
          [](double x) -> std::uint32_t { return FloatToBfloat16(x).bits; },
          0x7F7F,
          0x7F80,
          0x40};
}
SmallFormat E4m3fn() {
  return {"float8_e4m3fn",
          DType::kFloat8E4m3fn,
          8,
          [](std::uint32_t b) { return Float8E4m3fnToFloat({static_cast<std::uint8_t>(b)}); },
          [](double x) -> std::uint32_t { return FloatToFloat8E4m3fn(x).bits; },
          0x7E,
          0x7F,
          0};
}
SmallFormat E5m2() {
  return {"float8_e5m2",
          DType::kFloat8E5m2,
          8,
          [](std::uint32_t b) { return Float8E5m2ToFloat({static_cast<std::uint8_t>(b)}); },
          [](double x) -> std::uint32_t { return FloatToFloat8E5m2(x).bits; },
          0x7B,
          0x7C,
          0x2};
}

class Reference {
 public:
  explicit Reference(const SmallFormat& format) : format_(format) {
    for (std::uint32_t b = 0; b <= format.max_finite; ++b) values_.push_back(format.widen(b));
    const double top = values_[format.max_finite];
    values_.push_back(top + (top - values_[format.max_finite - 1]));
  }

  // Non-negative values, indexed by bit pattern, plus the overflow point.
  const std::vector<double>& values() const { return values_; }

  // The bits `x` should narrow to. REQUIRES: x is not NaN.
  std::uint32_t Round(double x) const {
    const std::uint32_t sign = std::signbit(x) ? 1u << (format_.width - 1) : 0;
    const double a = std::fabs(x);
    const std::uint32_t overflow_index = format_.max_finite + 1;
    std::uint32_t index;
    if (a >= values_.back()) {
      index = overflow_index;
    } else {
      index = static_cast<std::uint32_t>(std::upper_bound(values_.begin(), values_.end(), a) -
                                         values_.begin() - 1);
      const double below = a - values_[index];
      const double above = values_[index + 1] - a;
      if (above < below || (above == below && index % 2 == 1)) ++index;
    }
    return sign | (index == overflow_index ? format_.overflow : index);
  }

 private:
  SmallFormat format_;
  std::vector<double> values_;
};

// Every value in `values` and its neighbours, both signs: exact values,
// midpoints, one double (or float) ulp either side of them, and a point
// inside each interval.
std::vector<double> DoublePoints(const std::vector<double>& values) {
  std::vector<double> points = {0.0, 1e-300, 4.9e-324, 1e300, kInf};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    const double lo = values[i], hi = values[i + 1];
    const double mid = lo + (hi - lo) / 2;
    for (double p : {lo, mid, std::nextafter(mid, 0.0), std::nextafter(mid, kInf),
                     lo + (hi - lo) / 3, hi, std::nextafter(hi, kInf)}) {
      points.push_back(p);
    }
  }
  const std::size_t n = points.size();
  for (std::size_t i = 0; i < n; ++i) points.push_back(-points[i]);
  return points;
}

std::vector<float> FloatPoints(const std::vector<double>& values) {
  std::vector<float> points = {0.0f,
                               1e-45f,
                               1e-38f,
                               3e38f,
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::infinity()};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    const float lo = static_cast<float>(values[i]);
    const float hi = static_cast<float>(values[i + 1]);
    const float mid = lo + (hi - lo) / 2;  // exact: fewer than 24 bits
    for (float p : {lo, mid, std::nextafter(mid, 0.0f),
                    std::nextafter(mid, std::numeric_limits<float>::infinity()), hi}) {
      points.push_back(p);
    }
  }
  const std::size_t n = points.size();
  for (std::size_t i = 0; i < n; ++i) points.push_back(-points[i]);
  return points;
}

// Checks every path that narrows into `format` against the reference.
template <typename T>
void CheckNarrowingAgainstReference(const SmallFormat& format,
                                    std::function<std::uint32_t(float)> internal_from_float) {
  SCOPED_TRACE(format.name);
  const Reference reference(format);
  const std::vector<double>& values = reference.values();
  ASSERT_EQ(values.front(), 0.0);
  ASSERT_EQ(std::adjacent_find(values.begin(), values.end(), std::greater_equal<double>()),
            values.end())
      << "decoded values are not increasing";
  const std::vector<double> doubles = DoublePoints(reference.values());
  const std::vector<T> from_doubles = Cast<T, double>(doubles);
  int failures = 0;
  for (std::size_t i = 0; i < doubles.size() && failures < 10; ++i) {
    const std::uint32_t want = reference.Round(doubles[i]);
    const std::uint32_t scalar = format.narrow(doubles[i]);
    const std::uint32_t cast = from_doubles[i].bits;
    if (scalar != want || cast != want) {
      ++failures;
      ADD_FAILURE() << std::hexfloat << doubles[i] << ": want " << std::hex << want << ", scalar "
                    << scalar << ", CastElements " << cast;
    }
  }
  const std::vector<float> floats = FloatPoints(reference.values());
  const std::vector<T> from_floats = Cast<T, float>(floats);
  for (std::size_t i = 0; i < floats.size() && failures < 10; ++i) {
    const std::uint32_t want = reference.Round(floats[i]);
    const std::uint32_t cast = from_floats[i].bits;
    const std::uint32_t internal = internal_from_float(floats[i]);
    if (cast != want || internal != want) {
      ++failures;
      ADD_FAILURE() << std::hexfloat << floats[i] << "f: want " << std::hex << want
                    << ", CastElements " << cast << ", internal " << internal;
    }
  }
}

TEST(CastTest, Float16NarrowingMatchesReference) {
  CheckNarrowingAgainstReference<float16_t>(
      Float16(), [](float x) { return internal::NarrowBits<Float16Format>(x); });
}
TEST(CastTest, Bfloat16NarrowingMatchesReference) {
  CheckNarrowingAgainstReference<bfloat16_t>(
      Bfloat16(), [](float x) { return internal::NarrowBits<Bfloat16Format>(x); });
}
TEST(CastTest, Float8E4m3fnNarrowingMatchesReference) {
  CheckNarrowingAgainstReference<float8_e4m3fn_t>(
      E4m3fn(), [](float x) { return internal::NarrowBits<Float8E4m3fnFormat>(x); });
}
TEST(CastTest, Float8E5m2NarrowingMatchesReference) {
  CheckNarrowingAgainstReference<float8_e5m2_t>(
      E5m2(), [](float x) { return internal::NarrowBits<Float8E5m2Format>(x); });
}

// The fast float32 paths agree with the generic ones on random floats too,
// NaN payloads included.
TEST(CastTest, FastPathsMatchGenericOnRandomFloats) {
  std::mt19937 rng(42);
  for (int i = 0; i < 1'000'000; ++i) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    ASSERT_EQ(internal::FloatToFloat16Bits(x), internal::NarrowBits<Float16Format>(x))
        << std::hexfloat << x;
    ASSERT_EQ(internal::FloatToBfloat16Bits(x), internal::NarrowBits<Bfloat16Format>(x))
        << std::hexfloat << x;
    ASSERT_EQ(internal::FloatToFloat16Bits(x), FloatToFloat16(x).bits) << std::hexfloat << x;
  }
}

TEST(CastTest, FastWideningMatchesGenericForEveryPattern) {
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    ASSERT_EQ(FloatBits(internal::Float16BitsToFloat(bits)),
              FloatBits(internal::WidenBits<Float16Format>(b)))
        << std::hex << b;
    ASSERT_EQ(FloatBits(internal::Bfloat16BitsToFloat(bits)),
              FloatBits(internal::WidenBits<Bfloat16Format>(b)))
        << std::hex << b;
  }
}

// ---------------------------------------------------------------------------
// Round trips over every bit pattern.

template <typename T>
void CheckRoundTrips(const SmallFormat& format) {
  SCOPED_TRACE(format.name);
  const std::uint32_t count = 1u << format.width;
  const std::uint32_t sign_bit = 1u << (format.width - 1);
  std::vector<T> all(count);
  for (std::uint32_t b = 0; b < count; ++b) all[b].bits = static_cast<decltype(T::bits)>(b);
  const std::vector<float> as_float = Cast<float, T>(all);
  const std::vector<double> as_double = Cast<double, T>(all);
  const std::vector<T> via_float = Cast<T, float>(as_float);
  const std::vector<T> via_double = Cast<T, double>(as_double);
  for (std::uint32_t b = 0; b < count; ++b) {
    const float f = format.widen(b);
    ASSERT_EQ(FloatBits(as_float[b]), FloatBits(f)) << std::hex << b;
    ASSERT_EQ(DoubleBits(as_double[b]), DoubleBits(static_cast<double>(f))) << std::hex << b;
    if (std::isnan(f)) {
      // NaN stays NaN with its sign; quiet NaNs come back bit for bit.
      const bool quiet = format.quiet_bit == 0 || (b & format.quiet_bit) != 0;
      for (std::uint32_t back : {format.narrow(f), std::uint32_t{via_float[b].bits},
                                 std::uint32_t{via_double[b].bits}}) {
        EXPECT_TRUE(std::isnan(format.widen(back))) << std::hex << b << " -> " << back;
        EXPECT_EQ(back & sign_bit, b & sign_bit) << std::hex << b;
        if (quiet) {
          EXPECT_EQ(back, b);
        }
      }
      continue;
    }
    ASSERT_EQ(format.narrow(f), b) << std::hex << b;
    ASSERT_EQ(via_float[b].bits, b) << std::hex << b;
    ASSERT_EQ(via_double[b].bits, b) << std::hex << b;
  }
}

TEST(CastTest, Float16RoundTripsEveryPattern) { CheckRoundTrips<float16_t>(Float16()); }
TEST(CastTest, Bfloat16RoundTripsEveryPattern) { CheckRoundTrips<bfloat16_t>(Bfloat16()); }
TEST(CastTest, Float8E4m3fnRoundTripsEveryPattern) { CheckRoundTrips<float8_e4m3fn_t>(E4m3fn()); }
TEST(CastTest, Float8E5m2RoundTripsEveryPattern) { CheckRoundTrips<float8_e5m2_t>(E5m2()); }

// Every float8 value widens exactly into float16 and bfloat16 (and e4m3fn into
// e5m2 where in range), so these casts between formats lose nothing.
TEST(CastTest, Float8ToSixteenBitFormatsIsExact) {
  std::vector<float8_e4m3fn_t> e4m3(256);
  std::vector<float8_e5m2_t> e5m2(256);
  for (int b = 0; b < 256; ++b) {
    e4m3[b].bits = static_cast<std::uint8_t>(b);
    e5m2[b].bits = static_cast<std::uint8_t>(b);
  }
  const auto e4m3_back = Cast<float8_e4m3fn_t, float16_t>(Cast<float16_t, float8_e4m3fn_t>(e4m3));
  const auto e5m2_back = Cast<float8_e5m2_t, bfloat16_t>(Cast<bfloat16_t, float8_e5m2_t>(e5m2));
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(e4m3_back[b].bits, b) << b;  // NaNs included
    if ((b & 0x7F) != 0x7D) {
      EXPECT_EQ(e5m2_back[b].bits, b) << b;  // all but signalling NaNs
    }
  }
}

// ---------------------------------------------------------------------------
// Known values.

TEST(CastTest, Float16MatchesNumPy) {
  // Produced with Debian's NumPy 1.24:
  //   np.array([x], np.float64).astype(np.float16).view(np.uint16)
  struct Case {
    double x;
    std::uint16_t bits;
  };
  const Case cases[] = {
      {65504.0, 0x7bff},
      {65519.99, 0x7bff},
      {65520.0, 0x7c00},
      {0x1p-24, 0x0001},
      {0x1p-25, 0x0000},
      {0x1p-25 + 0x1p-60, 0x0001},
      {0x3p-25, 0x0002},
      {1 + 0x1p-11, 0x3c00},
      {1 + 0x3p-11, 0x3c02},
      {1 + 0x1p-11 + 0x1p-40, 0x3c01},  // float32 would make this a tie
      {0x1p-14 * (1 - 0x1p-12), 0x0400},
      {0.1, 0x2e66},
      {1.0 / 3, 0x3555},
      {-2.5, 0xc100},
      {1e-8, 0x0000},
      {1e10, 0x7c00},
      {-1e10, 0xfc00},
      {-0.0, 0x8000},
      {6.1e-5, 0x03ff},
      {3.14159, 0x4248},
      {-65504.0, 0xfbff},
      {2049.0, 0x6800},
      {2051.0, 0x6802},
      {1e-300, 0x0000},
      {kNan, 0x7e00},
      {-kNan, 0xfe00},
  };
  std::vector<double> xs;
  for (const Case& c : cases) {
    EXPECT_EQ(FloatToFloat16(c.x).bits, c.bits) << std::hexfloat << c.x;
    xs.push_back(c.x);
  }
  const std::vector<float16_t> cast = Cast<float16_t, double>(xs);
  for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(cast[i].bits, cases[i].bits) << i;

  // Same, from float32: np.array([x], np.float32).astype(np.float16)
  const std::vector<float> floats = {0x1.002p0f, 0x1.006p0f, 1e-7f, 65520.0f, 0x1.ffep-15f};
  const std::uint16_t float_bits[] = {0x3c00, 0x3c02, 0x0002, 0x7c00, 0x0400};
  const std::vector<float16_t> from_floats = Cast<float16_t, float>(floats);
  for (std::size_t i = 0; i < floats.size(); ++i) EXPECT_EQ(from_floats[i].bits, float_bits[i]);
}

TEST(CastTest, NanStaysNanWithItsSign) {
  // Signalling NaNs whose payload sits below the kept bits must not turn into
  // infinities.
  const std::vector<std::uint32_t> nans = {0x7f800001u, 0xff800001u, 0x7fa00000u, 0xffc00000u};
  std::vector<float> floats(nans.size());
  std::memcpy(floats.data(), nans.data(), nans.size() * sizeof(float));
  const auto halves = Cast<float16_t, float>(floats);
  const auto brains = Cast<bfloat16_t, float>(floats);
  const auto e4m3 = Cast<float8_e4m3fn_t, float>(floats);
  const auto e5m2 = Cast<float8_e5m2_t, float>(floats);
  const std::uint16_t want_halves[] = {0x7e00, 0xfe00, 0x7f00, 0xfe00};
  const std::uint16_t want_brains[] = {0x7fc0, 0xffc0, 0x7fe0, 0xffc0};
  const std::uint8_t want_e4m3[] = {0x7f, 0xff, 0x7f, 0xff};
  const std::uint8_t want_e5m2[] = {0x7e, 0xfe, 0x7f, 0xfe};  // top payload bits kept
  for (std::size_t i = 0; i < nans.size(); ++i) {
    EXPECT_EQ(halves[i].bits, want_halves[i]) << i;
    EXPECT_EQ(brains[i].bits, want_brains[i]) << i;
    EXPECT_EQ(e4m3[i].bits, want_e4m3[i]) << i;
    EXPECT_EQ(e5m2[i].bits, want_e5m2[i]) << i;
  }
}

TEST(CastTest, Float16Widening) {
  EXPECT_EQ(Float16ToFloat({0x7bff}), 65504.0f);
  EXPECT_EQ(Float16ToFloat({0x0001}), 0x1p-24f);
  EXPECT_EQ(Float16ToFloat({0x03ff}), 0x3ffp-24f);
  EXPECT_EQ(Float16ToFloat({0x0400}), 0x1p-14f);
  EXPECT_EQ(Float16ToFloat({0x3c00}), 1.0f);
  EXPECT_EQ(Float16ToFloat({0xc000}), -2.0f);
  EXPECT_EQ(Float16ToFloat({0x7c00}), std::numeric_limits<float>::infinity());
  EXPECT_EQ(Float16ToFloat({0xfc00}), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(Float16ToFloat({0x7e00})));
  EXPECT_TRUE(std::isnan(Float16ToFloat({0x7c01})));
  EXPECT_EQ(FloatBits(Float16ToFloat({0x8000})), 0x80000000u);
}

TEST(CastTest, Bfloat16KnownValues) {
  EXPECT_EQ(FloatToBfloat16(1.0).bits, 0x3f80);
  EXPECT_EQ(FloatToBfloat16(1.00390625).bits, 0x3f80);            // 1 + 2^-8: a tie, to even
  EXPECT_EQ(FloatToBfloat16(1 + 0x3p-8).bits, 0x3f82);            // a tie, to even (up)
  EXPECT_EQ(FloatToBfloat16(1 + 0x1p-8 + 0x1p-30).bits, 0x3f81);  // not a tie: no float32 step
  EXPECT_EQ(FloatToBfloat16(-0.0).bits, 0x8000);
  EXPECT_EQ(FloatToBfloat16(0x1p-133).bits, 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToBfloat16(0x1p-134).bits, 0x0000);  // half of it: tie to even
  EXPECT_EQ(FloatToBfloat16(0x1.8p-134).bits, 0x0001);
  EXPECT_EQ(FloatToBfloat16(std::numeric_limits<float>::max()).bits, 0x7f80);  // overflows
  EXPECT_EQ(FloatToBfloat16(0x1.fep127).bits, 0x7f7f);                         // largest finite
  EXPECT_EQ(FloatToBfloat16(-1e300).bits, 0xff80);
  EXPECT_EQ(FloatToBfloat16(kInf).bits, 0x7f80);
  EXPECT_EQ(FloatToBfloat16(kNan).bits, 0x7fc0);
  EXPECT_EQ(FloatToBfloat16(-kNan).bits, 0xffc0);
  EXPECT_EQ(Bfloat16ToFloat({0x7f7f}), 0x1.fep127f);
  EXPECT_EQ(Bfloat16ToFloat({0x0001}), 0x1p-133f);
  EXPECT_EQ(Bfloat16ToFloat({0xbf80}), -1.0f);

  // CastElements from float64 rounds once too; from float32 the fast path.
  const std::vector<double> doubles = {1 + 0x1p-8 + 0x1p-30, 1.00390625, 3.0e38};
  const std::vector<bfloat16_t> from_doubles = Cast<bfloat16_t, double>(doubles);
  EXPECT_EQ(from_doubles[0].bits, 0x3f81);
  EXPECT_EQ(from_doubles[1].bits, 0x3f80);
  EXPECT_EQ(from_doubles[2].bits, 0x7f62);
  const std::vector<float> floats = {1.00390625f, 0x1p-140f, -0x1.fep127f,
                                     std::numeric_limits<float>::quiet_NaN()};
  const std::vector<bfloat16_t> from_floats = Cast<bfloat16_t, float>(floats);
  EXPECT_EQ(from_floats[0].bits, 0x3f80);
  EXPECT_EQ(from_floats[1].bits, 0x0000);  // 2^-140 is 1/128 of bfloat16's smallest subnormal
  EXPECT_EQ(from_floats[2].bits, 0xff7f);
  EXPECT_EQ(from_floats[3].bits, 0x7fc0);
}

TEST(CastTest, Float8E4m3fnKnownValues) {
  EXPECT_EQ(FloatToFloat8E4m3fn(1.0).bits, 0x38);
  EXPECT_EQ(FloatToFloat8E4m3fn(448.0).bits, 0x7e);  // largest finite
  // 464 is halfway between 448 (mantissa 110) and the would-be 480 (mantissa
  // 111, which is NaN's pattern); the tie goes to the even 448, as in
  // ml_dtypes, which rounds first and reports overflow only past 448.
  EXPECT_EQ(FloatToFloat8E4m3fn(464.0).bits, 0x7e);
  EXPECT_EQ(FloatToFloat8E4m3fn(-464.0).bits, 0xfe);
  EXPECT_EQ(FloatToFloat8E4m3fn(std::nextafter(464.0, kInf)).bits, 0x7f);  // overflow: NaN
  EXPECT_EQ(FloatToFloat8E4m3fn(480.0).bits, 0x7f);
  EXPECT_EQ(FloatToFloat8E4m3fn(-1000.0).bits, 0xff);
  EXPECT_EQ(FloatToFloat8E4m3fn(kInf).bits, 0x7f);  // no infinity: NaN
  EXPECT_EQ(FloatToFloat8E4m3fn(-kInf).bits, 0xff);
  EXPECT_EQ(FloatToFloat8E4m3fn(kNan).bits, 0x7f);
  EXPECT_EQ(FloatToFloat8E4m3fn(-kNan).bits, 0xff);
  EXPECT_EQ(FloatToFloat8E4m3fn(-0.0).bits, 0x80);
  EXPECT_EQ(FloatToFloat8E4m3fn(0x1p-9).bits, 0x01);   // smallest subnormal
  EXPECT_EQ(FloatToFloat8E4m3fn(0x1p-10).bits, 0x00);  // tie to even
  EXPECT_EQ(FloatToFloat8E4m3fn(0x3p-10).bits, 0x02);  // tie to even
  EXPECT_EQ(FloatToFloat8E4m3fn(0x7p-9).bits, 0x07);   // largest subnormal
  EXPECT_EQ(FloatToFloat8E4m3fn(0xfp-10).bits, 0x08);  // rounds up to the smallest normal
  EXPECT_EQ(Float8E4m3fnToFloat({0x7e}), 448.0f);
  EXPECT_EQ(Float8E4m3fnToFloat({0x78}), 256.0f);  // the all-ones exponent holds normals
  EXPECT_EQ(Float8E4m3fnToFloat({0x01}), 0x1p-9f);
  EXPECT_EQ(Float8E4m3fnToFloat({0x08}), 0x1p-6f);
  EXPECT_EQ(Float8E4m3fnToFloat({0xb8}), -1.0f);
  EXPECT_TRUE(std::isnan(Float8E4m3fnToFloat({0x7f})));
  EXPECT_TRUE(std::isnan(Float8E4m3fnToFloat({0xff})));
  EXPECT_TRUE(std::signbit(Float8E4m3fnToFloat({0xff})));

  const std::vector<float> floats = {464.0f, 465.0f, 1e30f, -448.0f};
  const std::vector<float8_e4m3fn_t> cast = Cast<float8_e4m3fn_t, float>(floats);
  EXPECT_EQ(cast[0].bits, 0x7e);
  EXPECT_EQ(cast[1].bits, 0x7f);
  EXPECT_EQ(cast[2].bits, 0x7f);
  EXPECT_EQ(cast[3].bits, 0xfe);
}

TEST(CastTest, Float8E5m2KnownValues) {
  EXPECT_EQ(FloatToFloat8E5m2(1.0).bits, 0x3c);
  EXPECT_EQ(FloatToFloat8E5m2(57344.0).bits, 0x7b);  // largest finite
  EXPECT_EQ(FloatToFloat8E5m2(61439.0).bits, 0x7b);
  EXPECT_EQ(FloatToFloat8E5m2(61440.0).bits, 0x7c);  // tie, to even: inf
  EXPECT_EQ(FloatToFloat8E5m2(-61440.0).bits, 0xfc);
  EXPECT_EQ(FloatToFloat8E5m2(kInf).bits, 0x7c);
  EXPECT_EQ(FloatToFloat8E5m2(-kInf).bits, 0xfc);
  EXPECT_EQ(FloatToFloat8E5m2(kNan).bits, 0x7e);
  EXPECT_EQ(FloatToFloat8E5m2(-kNan).bits, 0xfe);
  EXPECT_EQ(FloatToFloat8E5m2(-0.0).bits, 0x80);
  EXPECT_EQ(FloatToFloat8E5m2(0x1p-16).bits, 0x01);  // smallest subnormal
  EXPECT_EQ(FloatToFloat8E5m2(0x1p-17).bits, 0x00);  // tie to even
  EXPECT_EQ(FloatToFloat8E5m2(0x1.0000001p-17).bits, 0x01);
  EXPECT_EQ(Float8E5m2ToFloat({0x7b}), 57344.0f);
  EXPECT_EQ(Float8E5m2ToFloat({0x01}), 0x1p-16f);
  EXPECT_EQ(Float8E5m2ToFloat({0x04}), 0x1p-14f);
  EXPECT_EQ(Float8E5m2ToFloat({0x7c}), std::numeric_limits<float>::infinity());
  EXPECT_EQ(Float8E5m2ToFloat({0xfc}), -std::numeric_limits<float>::infinity());
  for (std::uint8_t nan : {0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff}) {
    EXPECT_TRUE(std::isnan(Float8E5m2ToFloat({nan}))) << int{nan};
  }
}

TEST(CastTest, NarrowingBetweenLowPrecisionFormats) {
  // float16 -> e4m3fn: 65504 overflows to NaN; float16 inf to NaN.
  const std::vector<float16_t> halves = {{0x7bff}, {0x7c00}, {0x5f40}, {0x3c00}};  // 0x5f40 = 464
  const std::vector<float8_e4m3fn_t> e4m3 = Cast<float8_e4m3fn_t, float16_t>(halves);
  EXPECT_EQ(e4m3[0].bits, 0x7f);
  EXPECT_EQ(e4m3[1].bits, 0x7f);
  EXPECT_EQ(e4m3[2].bits, 0x7e);
  EXPECT_EQ(e4m3[3].bits, 0x38);
  // bfloat16 -> float16: 2^20 overflows to inf; 1 + 2^-7 is exact in both.
  const std::vector<bfloat16_t> brains = {{0x4980}, {0x3f81}, {0x3380}};  // 2^20, 1+2^-7, 2^-24
  const std::vector<float16_t> to_half = Cast<float16_t, bfloat16_t>(brains);
  EXPECT_EQ(to_half[0].bits, 0x7c00);
  EXPECT_EQ(to_half[1].bits, 0x3c08);
  EXPECT_EQ(to_half[2].bits, 0x0001);
  // e4m3fn NaN -> e5m2 NaN; 448 -> 448.
  const std::vector<float8_e4m3fn_t> fn = {{0xff}, {0x7e}};
  const std::vector<float8_e5m2_t> e5m2 = Cast<float8_e5m2_t, float8_e4m3fn_t>(fn);
  EXPECT_EQ(e5m2[0].bits, 0xfe);
  EXPECT_EQ(e5m2[1].bits, 0x5f);
}

// ---------------------------------------------------------------------------
// Integers.

TEST(CastTest, FloatToIntTruncatesSaturatesAndMapsNanToZero) {
  const std::vector<double> xs = {1.9,   -1.9,   -0.0, 127.9, 128.0, -128.9, -129.0,
                                  1e300, -1e300, kInf, -kInf, kNan,  -kNan};
  EXPECT_EQ((Cast<std::int8_t, double>(xs)),
            (std::vector<std::int8_t>{1, -1, 0, 127, 127, -128, -128, 127, -128, 127, -128, 0, 0}));
  EXPECT_EQ((Cast<std::uint8_t, double>(xs)),
            (std::vector<std::uint8_t>{1, 0, 0, 127, 128, 0, 0, 255, 0, 255, 0, 0, 0}));

  const std::vector<double> big = {0x1p63, -0x1p63, 0x1.fffffffffffffp62, 0x1p64, -1.0};
  constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ((Cast<std::int64_t, double>(big)),
            (std::vector<std::int64_t>{kI64Max, kI64Min, 0x7ffffffffffffc00, kI64Max, -1}));
  EXPECT_EQ((Cast<std::uint64_t, double>(big)),
            (std::vector<std::uint64_t>{0x8000000000000000u, 0, 0x7ffffffffffffc00u,
                                        0xffffffffffffffffu, 0}));

  const std::vector<float> floats = {
      2147483520.0f, 2147483648.0f, -2147483648.0f, -3e9f, std::numeric_limits<float>::quiet_NaN(),
      4294967040.0f};
  EXPECT_EQ((Cast<std::int32_t, float>(floats)),
            (std::vector<std::int32_t>{2147483520, 2147483647, -2147483647 - 1, -2147483647 - 1, 0,
                                       2147483647}));
  EXPECT_EQ((Cast<std::uint32_t, float>(floats)),
            (std::vector<std::uint32_t>{2147483520u, 2147483648u, 0, 0, 0, 4294967040u}));

  // Low-precision sources go through the same rules.
  const std::vector<float16_t> halves = {
      {0x7bff}, {0xfc00}, {0x7e00}, {0xbe00}};  // 65504 -inf NaN -1.5
  EXPECT_EQ((Cast<std::int16_t, float16_t>(halves)),
            (std::vector<std::int16_t>{32767, -32768, 0, -1}));
  EXPECT_EQ((Cast<std::uint16_t, float16_t>(halves)), (std::vector<std::uint16_t>{65504, 0, 0, 0}));
  const std::vector<float8_e4m3fn_t> fn = {{0x7e}, {0xff}, {0xd4}};  // 448 NaN -12
  EXPECT_EQ((Cast<std::int8_t, float8_e4m3fn_t>(fn)), (std::vector<std::int8_t>{127, 0, -12}));
}

TEST(CastTest, IntToIntWraps) {
  // np.array([300, -1, 2**40 + 5, -129], np.int64).astype(np.int8) and
  // np.array([-1, 70000], np.int64).astype(np.uint16), Debian's NumPy 1.24.
  EXPECT_EQ((Cast<std::int8_t, std::int64_t>({300, -1, (std::int64_t{1} << 40) + 5, -129})),
            (std::vector<std::int8_t>{44, -1, 5, 127}));
  EXPECT_EQ((Cast<std::uint16_t, std::int64_t>({-1, 70000})),
            (std::vector<std::uint16_t>{65535, 4464}));
  EXPECT_EQ((Cast<std::int32_t, std::uint64_t>({0xffffffffffffffffu, 0x80000000u})),
            (std::vector<std::int32_t>{-1, -2147483647 - 1}));
  EXPECT_EQ((Cast<std::int64_t, std::uint8_t>({255, 0})), (std::vector<std::int64_t>{255, 0}));
  EXPECT_EQ((Cast<std::int64_t, std::int8_t>({-128, 5})), (std::vector<std::int64_t>{-128, 5}));
  EXPECT_EQ((Cast<std::uint64_t, std::int16_t>({-2})),
            (std::vector<std::uint64_t>{0xfffffffffffffffeu}));
}

TEST(CastTest, IntToFloatRoundsToNearestEven) {
  // Ties at 2^24 + 1 (to even: down) and 2^24 + 3 (to even: up).
  EXPECT_EQ((Cast<float, std::int64_t>({(1 << 24) + 1, (1 << 24) + 3, -((1 << 24) + 1)})),
            (std::vector<float>{16777216.0f, 16777220.0f, -16777216.0f}));
  EXPECT_EQ((Cast<float, std::uint64_t>({0xffffffffffffffffu})), (std::vector<float>{0x1p64f}));
  EXPECT_EQ((Cast<double, std::uint64_t>({(std::uint64_t{1} << 53) + 1})),
            (std::vector<double>{0x1p53}));
  // np.array([65519, 65520, -70000, 2049, 2051], np.int64).astype(np.float16)
  const auto halves = Cast<float16_t, std::int64_t>({65519, 65520, -70000, 2049, 2051});
  const std::uint16_t want[] = {0x7bff, 0x7c00, 0xfc00, 0x6800, 0x6802};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(halves[i].bits, want[i]) << i;
  EXPECT_EQ((Cast<float16_t, std::uint64_t>({0xffffffffffffffffu}))[0].bits, 0x7c00);
  EXPECT_EQ((Cast<float16_t, std::int64_t>({std::numeric_limits<std::int64_t>::min()}))[0].bits,
            0xfc00);

  // Rounding once matters: 2^60 + 2^52 + 1 is just above the tie between two
  // bfloat16 neighbours, but via double it would become the tie itself.
  const std::int64_t just_above_tie = (std::int64_t{1} << 60) + (std::int64_t{1} << 52) + 1;
  const auto b64 = Cast<bfloat16_t, std::int64_t>(
      {just_above_tie, -just_above_tie, (std::int64_t{1} << 60) + (std::int64_t{1} << 52)});
  EXPECT_EQ(Bfloat16ToFloat(b64[0]), 0x1.02p60f);
  EXPECT_EQ(Bfloat16ToFloat(b64[1]), -0x1.02p60f);
  EXPECT_EQ(Bfloat16ToFloat(b64[2]), 0x1p60f);  // the tie itself: to even
  const auto bu64 = Cast<bfloat16_t, std::uint64_t>({static_cast<std::uint64_t>(just_above_tie)});
  EXPECT_EQ(Bfloat16ToFloat(bu64[0]), 0x1.02p60f);
  // Same for int32 (via float32 it would be a tie): 2^24 + 2^16 + 1.
  const auto b32 = Cast<bfloat16_t, std::int32_t>({(1 << 24) + (1 << 16) + 1});
  EXPECT_EQ(Bfloat16ToFloat(b32[0]), 0x1.02p24f);
  // e4m3fn: 464 ties to 448; 465 is NaN; e5m2: 61440 ties to inf.
  const auto fn = Cast<float8_e4m3fn_t, std::int32_t>({464, 465, -7});
  EXPECT_EQ(fn[0].bits, 0x7e);
  EXPECT_EQ(fn[1].bits, 0x7f);
  EXPECT_EQ(fn[2].bits, 0xce);
  const auto e5 = Cast<float8_e5m2_t, std::uint16_t>({61439, 61440});
  EXPECT_EQ(e5[0].bits, 0x7b);
  EXPECT_EQ(e5[1].bits, 0x7c);
}

// ---------------------------------------------------------------------------
// bool and complex.

TEST(CastTest, Bool) {
  const std::vector<double> xs = {0.0, -0.0, 1e-300, -2.0, kNan, kInf};
  EXPECT_EQ((Cast<bool, double>(xs)), (std::vector<std::uint8_t>{0, 0, 1, 1, 1, 1}));
  EXPECT_EQ((Cast<bool, std::int64_t>({0, 1, -1, std::int64_t{1} << 40})),
            (std::vector<std::uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ((Cast<bool, float16_t>({{0x0000}, {0x8000}, {0x0001}, {0x7e00}})),
            (std::vector<std::uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ((Cast<bool, float8_e4m3fn_t>({{0x80}, {0x7f}})), (std::vector<std::uint8_t>{0, 1}));
  using C = std::complex<double>;
  EXPECT_EQ((Cast<bool, C>({C(0, 0), C(0, 1), C(-0.0, 0), C(kNan, 0), C(0, -0.0)})),
            (std::vector<std::uint8_t>{0, 1, 0, 1, 0}));

  // Any nonzero byte in a bool array reads as true.
  const std::vector<std::uint8_t> bools = {0, 1, 2, 255};
  EXPECT_EQ((Cast<float, bool>(bools)), (std::vector<float>{0, 1, 1, 1}));
  EXPECT_EQ((Cast<std::int64_t, bool>(bools)), (std::vector<std::int64_t>{0, 1, 1, 1}));
  EXPECT_EQ((Cast<bfloat16_t, bool>(bools))[3].bits, 0x3f80);
  EXPECT_EQ((Cast<float8_e4m3fn_t, bool>(bools))[2].bits, 0x38);
  EXPECT_EQ((Cast<std::complex<float>, bool>(bools))[1], std::complex<float>(1, 0));
}

TEST(CastTest, Complex) {
  using C64 = std::complex<float>;
  using C128 = std::complex<double>;
  const std::vector<C128> values = {C128(1.5, 2.0), C128(-2.7, 1e300),
                                    C128(1 + 0x1p-11 + 0x1p-40, 0), C128(kNan, 0)};
  const std::vector<double> reals = Cast<double, C128>(values);
  EXPECT_EQ(reals[0], 1.5);
  EXPECT_EQ(reals[1], -2.7);
  EXPECT_TRUE(std::isnan(reals[3]));
  EXPECT_EQ((Cast<std::int32_t, C128>(values)), (std::vector<std::int32_t>{1, -2, 1, 0}));
  // The real part is rounded once, from double.
  EXPECT_EQ((Cast<float16_t, C128>(values))[2].bits, 0x3c01);

  const std::vector<C64> narrowed = Cast<C64, C128>(values);
  EXPECT_EQ(narrowed[0], C64(1.5f, 2.0f));
  EXPECT_EQ(narrowed[1].real(), static_cast<float>(-2.7));
  EXPECT_EQ(narrowed[1].imag(), std::numeric_limits<float>::infinity());

  const std::vector<C64> small = {C64(0.1f, -0.25f)};
  EXPECT_EQ((Cast<C128, C64>(small)), (std::vector<C128>{C128(0.1f, -0.25)}));
  EXPECT_EQ((Cast<bfloat16_t, C64>(small))[0].bits, 0x3dcd);

  EXPECT_EQ((Cast<C128, std::int64_t>({-3})), (std::vector<C128>{C128(-3, 0)}));
  EXPECT_EQ((Cast<C64, float16_t>({{0x3c00}})), (std::vector<C64>{C64(1, 0)}));
  const std::vector<C64> from_double = Cast<C64, double>({-0.0});
  EXPECT_TRUE(std::signbit(from_double[0].real()));
  EXPECT_EQ(from_double[0].imag(), 0.0f);
}

// ---------------------------------------------------------------------------
// Every pair of dtypes.

TEST(CastTest, EveryPairPreservesSmallValues) {
  // Values every dtype holds exactly (bool: as != 0), enough of them to
  // cover both the blocked loop and its tail.
  const double exact[] = {0, 1, 2, 3, 4, 6, 7};
  std::vector<double> values;
  for (int i = 0; i < 37; ++i) values.push_back(exact[i % 7]);
  for (DType from : kAllDTypes) {
    std::vector<std::byte> src(values.size() * ItemSize(from));
    CastElements(DType::kFloat64, std::as_bytes(std::span(values)), from, src, values.size());
    for (DType to : kAllDTypes) {
      SCOPED_TRACE(std::string(DTypeName(from)) + " -> " + std::string(DTypeName(to)));
      std::vector<std::byte> dst(values.size() * ItemSize(to));
      CastElements(from, src, to, dst, values.size());
      std::vector<double> back(values.size());
      CastElements(to, dst, DType::kFloat64, std::as_writable_bytes(std::span(back)),
                   values.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        const bool lossy = from == DType::kBool || to == DType::kBool;
        EXPECT_EQ(back[i], lossy ? (values[i] != 0 ? 1.0 : 0.0) : values[i]) << i;
      }
    }
  }
}

TEST(CastTest, HandlesUnalignedBuffers) {
  // Elements at odd addresses, both sides.
  std::vector<std::byte> src(1 + 3 * sizeof(double));
  std::vector<std::byte> dst(1 + 3 * sizeof(std::complex<double>));
  const double xs[] = {1.25, -3.0, 65504.0};
  std::memcpy(src.data() + 1, xs, sizeof(xs));
  CastElements(DType::kFloat64, std::span(src).subspan(1), DType::kComplex128,
               std::span(dst).subspan(1), 3);
  std::complex<double> out[3];
  std::memcpy(out, dst.data() + 1, sizeof(out));
  EXPECT_EQ(out[2], std::complex<double>(65504.0, 0));
  CastElements(DType::kComplex128, std::span(dst).subspan(1), DType::kFloat16,
               std::span(src).subspan(1), 3);
  std::uint16_t halves[3];
  std::memcpy(halves, src.data() + 1, sizeof(halves));
  EXPECT_EQ(halves[0], 0x3d00);
  EXPECT_EQ(halves[1], 0xc200);
  EXPECT_EQ(halves[2], 0x7bff);
}

TEST(CastTest, SameDTypeCopiesBytes) {
  // Bits are copied untouched, including NaN payloads and odd bool bytes.
  const std::vector<std::uint32_t> bits = {0x7fa00001u, 0xffc12345u, 0x3f800000u};
  std::vector<std::uint32_t> out(bits.size());
  CastElements(DType::kFloat32, std::as_bytes(std::span(bits)), DType::kFloat32,
               std::as_writable_bytes(std::span(out)), bits.size());
  EXPECT_EQ(out, bits);
  const std::vector<std::uint8_t> bools = {0, 1, 7};
  EXPECT_EQ((Cast<bool, bool>(bools)), bools);
  // count == 0 touches nothing.
  CastElements(DType::kFloat64, {}, DType::kInt8, {}, 0);
}

TEST(CastTest, ArrayAsTypeUsesCastElements) {
  const std::vector<float> values = {1.5f, -2.5f, 65520.0f, 0x1.002p0f};
  auto array = Array::FromValues<float>({2, 2}, values);
  ASSERT_TRUE(array.has_value());
  auto halves = array->AsType(DType::kFloat16);
  ASSERT_TRUE(halves.has_value());
  EXPECT_EQ(halves->shape(), (Shape{2, 2}));
  const auto h = halves->values<float16_t>();
  EXPECT_EQ(h[0].bits, 0x3e00);
  EXPECT_EQ(h[1].bits, 0xc100);
  EXPECT_EQ(h[2].bits, 0x7c00);
  EXPECT_EQ(h[3].bits, 0x3c00);
}

}  // namespace
}  // namespace stowage
