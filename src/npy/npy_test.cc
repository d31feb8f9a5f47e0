// Unit tests of the .npy reader and writer that need no NumPy: round trips,
// hand-built Fortran-order and big-endian files, malformed and hostile input.
#include "npy/npy.h"

#include <gtest/gtest.h>

#include <bit>
#include <complex>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace stowage::npy {
namespace {

using ::stowage::testing::TempDir;

const std::vector<Shape> kShapes = {
    {},        {0},       {5},          {3, 0},       {2, 3},       {0, 4, 2},
    {2, 3, 4}, {4, 1, 3}, {1, 2, 3, 4}, {2, 0, 1, 3}, {3, 2, 2, 2},
};

// An array of `shape` filled with arbitrary bytes (bools 0 or 1).
Array PatternArray(DType dtype, const Shape& shape, unsigned seed) {
  Array array = Array::Uninitialized(dtype, shape).value();
  std::mt19937 rng(seed);
  for (std::byte& b : array.mutable_bytes()) {
    b = static_cast<std::byte>(dtype == DType::kBool ? rng() % 2 : rng() % 256);
  }
  return array;
}

Bytes Concat(const Bytes& a, std::span<const std::byte> b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// A file with a hand-written header (version `major`, unpadded) and `data`.
Bytes MakeFile(std::string_view dict, std::span<const std::byte> data = {}, int major = 1) {
  Bytes out = ToBytes("\x93NUMPY");
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) {
    out.push_back(static_cast<std::byte>(dict.size() >> (8 * i)));
  }
  return Concat(Concat(out, AsBytes(dict)), data);
}

TEST(NpyTest, RoundTripsEveryDTypeAndShape) {
  TempDir dir;
  unsigned seed = 0;
  for (DType dtype : kAllDTypes) {
    for (const Shape& shape : kShapes) {
      SCOPED_TRACE(std::string(DTypeName(dtype)) + " " + ShapeToString(shape));
      Array array = PatternArray(dtype, shape, ++seed);
      auto path = dir.path() / "a.npy";
      ASSERT_OK(WriteNpyFile(path, array.view()));
      ASSERT_OK_AND_ASSIGN(Array read, ReadNpyFile(path));
      EXPECT_TRUE(BitwiseEqual(read.view(), array.view()));

      Bytes header = EncodeNpyHeader(array.view());
      EXPECT_EQ(header.size() % 64, 0u);
      EXPECT_EQ(header.back(), std::byte{'\n'});
      ASSERT_OK_AND_ASSIGN(Array decoded, DecodeNpy(Concat(header, array.bytes()), "mem"));
      EXPECT_TRUE(BitwiseEqual(decoded.view(), array.view()));
      ASSERT_OK_AND_ASSIGN(NpyHeader parsed, ParseNpyHeader(header, "mem"));
      EXPECT_EQ(parsed.dtype, dtype);
      EXPECT_EQ(parsed.shape, shape);
      EXPECT_FALSE(parsed.fortran_order);
      EXPECT_FALSE(parsed.big_endian);
      EXPECT_EQ(parsed.data_offset, header.size());
    }
  }
}

TEST(NpyTest, HeaderBytesAsNumpyWritesThem) {
  // np.save(f, np.zeros((3, 4), '<f4')) with NumPy 1.24.
  Array array = Array::Zeros(DType::kFloat32, {3, 4}).value();
  std::string expected = std::string("\x93NUMPY\x01\x00v\x00", 10) +
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" +
                         std::string(58, ' ') + "\n";
  EXPECT_EQ(AsStringView(EncodeNpyHeader(array.view())), expected);

  Array scalar = Array::Scalar(true);
  std::string scalar_expected = std::string("\x93NUMPY\x01\x00v\x00", 10) +
                                "{'descr': '|b1', 'fortran_order': False, 'shape': (), }" +
                                std::string(62, ' ') + "\n";
  EXPECT_EQ(AsStringView(EncodeNpyHeader(scalar.view())), scalar_expected);

  // Unpadded, this header would end at byte 128; NumPy then pads 64 more.
  Array aligned =
      Array::Zeros(DType::kFloat32, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100}).value();
  Bytes aligned_header = EncodeNpyHeader(aligned.view());
  EXPECT_EQ(aligned_header.size(), 192u);
  EXPECT_EQ(AsStringView(aligned_header).substr(10, 3), "{'d");
}

TEST(NpyTest, LongHeaderUsesVersion2) {
  Shape shape(30000, 1);
  Array array = Array::Zeros(DType::kInt16, shape).value();
  Bytes header = EncodeNpyHeader(array.view());
  ASSERT_GT(header.size(), 65535u);
  EXPECT_EQ(header[6], std::byte{2});
  EXPECT_EQ(header.size() % 64, 0u);
  ASSERT_OK_AND_ASSIGN(Array decoded, DecodeNpy(Concat(header, array.bytes()), "mem"));
  EXPECT_EQ(decoded.shape(), shape);
  // Just below the limit stays 1.0.
  Array small = Array::Zeros(DType::kInt16, Shape(21000, 1)).value();
  EXPECT_EQ(EncodeNpyHeader(small.view())[6], std::byte{1});
}

TEST(NpyTest, DescrNames) {
  for (DType dtype : kAllDTypes) {
    ASSERT_OK_AND_ASSIGN(NpyDescr descr, ParseNpyDescr(DescrOf(dtype), "x"));
    EXPECT_EQ(descr.dtype, dtype) << DescrOf(dtype);
    EXPECT_FALSE(descr.big_endian);
  }
  EXPECT_EQ(DescrOf(DType::kBool), "|b1");
  EXPECT_EQ(DescrOf(DType::kUint8), "|u1");
  EXPECT_EQ(DescrOf(DType::kComplex128), "<c16");
  EXPECT_EQ(DescrOf(DType::kBfloat16), "bfloat16");
  EXPECT_EQ(DescrOf(DType::kFloat8E4m3fn), "float8_e4m3fn");
  EXPECT_EQ(DescrOf(DType::kFloat8E5m2), "float8_e5m2");

  ASSERT_OK_AND_ASSIGN(NpyDescr big, ParseNpyDescr(">i8", "x"));
  EXPECT_EQ(big.dtype, DType::kInt64);
  EXPECT_TRUE(big.big_endian);
  ASSERT_OK_AND_ASSIGN(NpyDescr big_byte, ParseNpyDescr(">u1", "x"));
  EXPECT_FALSE(big_byte.big_endian);
  ASSERT_OK_AND_ASSIGN(NpyDescr native, ParseNpyDescr("=f2", "x"));
  EXPECT_EQ(native.dtype, DType::kFloat16);
  EXPECT_FALSE(native.big_endian);

  auto void_descr = ParseNpyDescr("|V2", "w.npy");
  EXPECT_ERROR_CODE(void_descr, ErrorCode::kUnsupported);
  EXPECT_NE(void_descr.error().message().find("--dtype"), std::string::npos);
  EXPECT_NE(void_descr.error().message().find("w.npy"), std::string::npos);
  for (const char* descr : {"|O", "<U5", "|S3", "<M8[ns]", "<f3", "<f16", "", "<"}) {
    auto parsed = ParseNpyDescr(descr, "x");
    EXPECT_ERROR_CODE(parsed, ErrorCode::kUnsupported);
    EXPECT_NE(parsed.error().message().find("'" + std::string(descr) + "'"), std::string::npos);
  }
  EXPECT_ERROR_CODE(ParseNpyDescr(std::string_view("\0f4", 3), "x"), ErrorCode::kUnsupported);
}

TEST(NpyTest, TolerantHeaderSyntax) {
  const Bytes data(24, std::byte{0});
  struct Case {
    const char* dict;
    Shape shape;
  };
  const Case cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", {2, 3}},
      {"{\"shape\": (2,3), \"descr\": \"<f4\", \"fortran_order\": False}\n", {2, 3}},
      {"  {'fortran_order':False,'shape':(6,),'descr':'<f4'}    \n", {6}},
      {"{'descr': '<f4',\n 'fortran_order': False,\t'shape': ( 2 , 3 , ) , }", {2, 3}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6L,), }", {6}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", {}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9), }", {0, 9}},
  };
  for (const Case& c : cases) {
    for (int major : {1, 2, 3}) {
      SCOPED_TRACE(std::string(c.dict) + " v" + std::to_string(major));
      ASSERT_OK_AND_ASSIGN(Array array, DecodeNpy(MakeFile(c.dict, data, major), "x"));
      EXPECT_EQ(array.dtype(), DType::kFloat32);
      EXPECT_EQ(array.shape(), c.shape);
    }
  }
}

TEST(NpyTest, DecodesFortranOrderAndBigEndian) {
  // '>i2' of shape (2, 3) holding 10*i + j, stored column by column.
  Bytes data;
  for (int j = 0; j < 3; ++j) {
    for (int i = 0; i < 2; ++i) {
      data.push_back(std::byte{0x01});  // +256 checks both bytes are swapped
      data.push_back(static_cast<std::byte>(10 * i + j));
    }
  }
  ASSERT_OK_AND_ASSIGN(
      Array array,
      DecodeNpy(MakeFile("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }", data), "x"));
  ASSERT_EQ(array.shape(), (Shape{2, 3}));
  std::vector<std::int16_t> expected = {256, 257, 258, 266, 267, 268};
  auto values = array.values<std::int16_t>();
  EXPECT_EQ(std::vector<std::int16_t>(values.begin(), values.end()), expected);

  // Rank 3, 16-byte items, each complex part swapped on its own.
  Shape shape = {2, 3, 4};
  Bytes c16;
  for (int k = 0; k < 4; ++k) {
    for (int j = 0; j < 3; ++j) {
      for (int i = 0; i < 2; ++i) {
        for (double part : {double(12 * i + 4 * j + k), -1.0 * (12 * i + 4 * j + k)}) {
          auto bits = std::bit_cast<std::uint64_t>(part);
          for (int b = 7; b >= 0; --b) c16.push_back(static_cast<std::byte>(bits >> (8 * b)));
        }
      }
    }
  }
  ASSERT_OK_AND_ASSIGN(
      Array complex,
      DecodeNpy(MakeFile("{'descr': '>c16', 'fortran_order': True, 'shape': (2, 3, 4), }", c16),
                "x"));
  auto cvalues = complex.values<std::complex<double>>();
  for (int n = 0; n < 24; ++n) EXPECT_EQ(cvalues[n], std::complex<double>(n, -n)) << n;

  // Fortran order of rank 0 and 1 and with a zero dimension.
  for (const char* shape_text : {"()", "(3,)", "(0, 2)", "(2, 0, 3)"}) {
    std::string dict =
        "{'descr': '<u1', 'fortran_order': True, 'shape': " + std::string(shape_text) + ", }";
    Bytes bytes = {std::byte{1}, std::byte{2}, std::byte{3}};
    EXPECT_OK(DecodeNpy(MakeFile(dict, bytes), "x"));
  }
}

TEST(NpyTest, BoolBytesBecomeZeroOrOne) {
  Bytes data = {std::byte{0}, std::byte{2}, std::byte{255}};
  ASSERT_OK_AND_ASSIGN(
      Array array,
      DecodeNpy(MakeFile("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", data), "x"));
  EXPECT_EQ(array.bytes()[0], std::byte{0});
  EXPECT_EQ(array.bytes()[1], std::byte{1});
  EXPECT_EQ(array.bytes()[2], std::byte{1});
}

TEST(NpyTest, IgnoresBytesAfterTheData) {
  Bytes data(10, std::byte{7});
  ASSERT_OK_AND_ASSIGN(
      Array array,
      DecodeNpy(MakeFile("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", data), "x"));
  EXPECT_EQ(array.num_bytes(), 4u);
  TempDir dir;
  auto path = dir.path() / "two_arrays.npy";
  Bytes file = MakeFile("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", data);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  ASSERT_OK_AND_ASSIGN(Array read, ReadNpyFile(path));
  EXPECT_EQ(read.num_bytes(), 4u);
}

}  // namespace
}  // namespace stowage::npy
