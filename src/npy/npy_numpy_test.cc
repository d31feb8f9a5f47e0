// Interoperability with NumPy (Debian's /usr/bin/python3 and its numpy):
// files np.save() writes are read with the right values, files stowage
// writes are byte for byte what np.save() writes and np.load() reads them.
// Skipped when that Python cannot import numpy.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "npy/npy.h"
#include "testutil/testutil.h"

namespace stowage::npy {
namespace {

using ::stowage::testing::ReadFileOrDie;
using ::stowage::testing::TempDir;

constexpr char kPython[] = "/usr/bin/python3";

// Reads a spec of lines "name descr order dims" (dims comma-separated, "-"
// for a 0-d array). Modes: `save SPEC DIR` np.save()s each array into
// DIR/name.npy; `check SPEC DIR` np.load()s each and compares, printing OK;
// `header2 OUT` writes the header NumPy gives a rank-30000 int16 array.
constexpr char kHelper[] = R"PY(
import sys
import numpy as np
try:
    import ml_dtypes  # registers 'bfloat16', 'float8_*' with np.dtype()
except ImportError:
    pass

def expected(descr, shape):
    # Must match Expected() in npy_numpy_test.cc.
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n)
    dt = np.dtype(descr)
    if dt.kind == 'b':
        v = i % 3 == 0
    elif dt.kind == 'c':
        v = (i % 100) + 1j * (i % 100 + 1)
    else:
        v = i % (8 if descr.startswith('float8') else 100)
    return v.astype(dt).reshape(shape)

def cases(spec):
    for line in open(spec):
        name, descr, order, dims = line.split()
        shape = () if dims == '-' else tuple(int(d) for d in dims.split(','))
        yield name, descr, order, shape

mode = sys.argv[1]
if mode == 'save':
    for name, descr, order, shape in cases(sys.argv[2]):
        a = expected(descr, shape)
        if order == 'F':
            a = np.asfortranarray(a)
        np.save(sys.argv[3] + '/' + name + '.npy', a)
    print('OK')
elif mode == 'check':
    bad = []
    for name, descr, order, shape in cases(sys.argv[2]):
        a = np.load(sys.argv[3] + '/' + name + '.npy')
        e = expected(descr, shape)
        if a.dtype != e.dtype or a.shape != e.shape or not np.array_equal(a, e):
            bad.append('%s: got %s %s %r' % (name, a.dtype, a.shape, a.ravel()[:8]))
    print('\n'.join(bad) if bad else 'OK')
elif mode == 'header2':
    write = getattr(np.lib.format, '_write_array_header', None)
    if write is None:
        print('SKIP')
    else:
        with open(sys.argv[2], 'wb') as f:
            write(f, {'descr': '<i2', 'fortran_order': False, 'shape': (1,) * 30000})
        print('OK')
)PY";

struct Case {
  std::string name;
  std::string descr;
  char order;  // 'C' or 'F'
  Shape shape;
};

bool PythonCan(const std::string& import) {
  std::string command = std::string(kPython) + " -c 'import " + import + "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

bool HaveNumpy() {
  static const bool have = PythonCan("numpy");
  return have;
}

// Runs the helper with `args`, returning its exit status and output.
std::pair<int, std::string> RunHelper(const TempDir& dir, const std::string& args) {
  auto script = dir.path() / "npy_helper.py";
  std::ofstream(script) << kHelper;
  std::string command = std::string(kPython) + " '" + script.string() + "' " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = pclose(pipe);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return {status, output};
}

std::string WriteSpec(const TempDir& dir, const std::vector<Case>& cases) {
  auto spec = dir.path() / "spec.txt";
  std::ofstream out(spec);
  for (const Case& c : cases) {
    std::string dims = c.shape.empty() ? "-" : "";
    for (std::size_t i = 0; i < c.shape.size(); ++i) {
      dims += (i ? "," : "") + std::to_string(c.shape[i]);
    }
    out << c.name << " " << c.descr << " " << c.order << " " << dims << "\n";
  }
  return "'" + spec.string() + "' '" + dir.path().string() + "'";
}

template <typename T>
void Put(Array& array, std::int64_t i, T value) {
  array.mutable_values<T>()[static_cast<std::size_t>(i)] = value;
}

// The C-ordered array the helper's expected() builds.
Array Expected(DType dtype, const Shape& shape) {
  Array a = Array::Uninitialized(dtype, shape).value();
  bool float8 = dtype == DType::kFloat8E4m3fn || dtype == DType::kFloat8E5m2;
  for (std::int64_t i = 0; i < a.num_elements(); ++i) {
    int v = static_cast<int>(i % (float8 ? 8 : 100));
    switch (dtype) {
      case DType::kBool:
        Put(a, i, i % 3 == 0);
        break;
      case DType::kInt8:
        Put(a, i, static_cast<std::int8_t>(v));
        break;
      case DType::kInt16:
        Put(a, i, static_cast<std::int16_t>(v));
        break;
      case DType::kInt32:
        Put(a, i, static_cast<std::int32_t>(v));
        break;
      case DType::kInt64:
        Put(a, i, static_cast<std::int64_t>(v));
        break;
      case DType::kUint8:
        Put(a, i, static_cast<std::uint8_t>(v));
        break;
      case DType::kUint16:
        Put(a, i, static_cast<std::uint16_t>(v));
        break;
      case DType::kUint32:
        Put(a, i, static_cast<std::uint32_t>(v));
        break;
      case DType::kUint64:
        Put(a, i, static_cast<std::uint64_t>(v));
        break;
      case DType::kFloat16:
        Put(a, i, FloatToFloat16(v));
        break;
      case DType::kBfloat16:
        Put(a, i, FloatToBfloat16(v));
        break;
      case DType::kFloat32:
        Put(a, i, static_cast<float>(v));
        break;
      case DType::kFloat64:
        Put(a, i, static_cast<double>(v));
        break;
      case DType::kComplex64:
        Put(a, i, std::complex<float>(v, v + 1));
        break;
      case DType::kComplex128:
        Put(a, i, std::complex<double>(v, v + 1));
        break;
      case DType::kFloat8E4m3fn:
        Put(a, i, FloatToFloat8E4m3fn(v));
        break;
      case DType::kFloat8E5m2:
        Put(a, i, FloatToFloat8E5m2(v));
        break;
    }
  }
  return a;
}

bool IsMlDtype(DType dtype) {
  return dtype == DType::kBfloat16 || dtype == DType::kFloat8E4m3fn || dtype == DType::kFloat8E5m2;
}

TEST(NpyNumpyTest, ReadsWhatNumpySaves) {
  if (!HaveNumpy()) GTEST_SKIP() << kPython << " cannot import numpy";
  const std::vector<Case> cases = {
      {"c_f4", "<f4", 'C', {3, 4}},
      {"f_i4", "<i4", 'F', {2, 3, 4}},
      {"be_f8", ">f8", 'C', {5}},
      {"be_f_i2", ">i2", 'F', {3, 4}},
      {"be_f_c8", ">c8", 'F', {2, 3}},
      {"be_c16", ">c16", 'C', {4}},
      {"bool", "|b1", 'C', {7}},
      {"bool_f", "|b1", 'F', {2, 3, 2}},
      {"c16", "<c16", 'C', {2, 2}},
      {"f_c16", "<c16", 'F', {2, 2, 3}},
      {"scalar_f8", "<f8", 'C', {}},
      {"scalar_be_u2", ">u2", 'C', {}},
      {"zero_len", "<i2", 'C', {0, 3}},
      {"zero_len_f", "<f4", 'F', {2, 0, 3}},
      {"u8", "<u8", 'C', {4}},
      {"be_f_u8", ">u8", 'F', {3, 2}},
      {"f_f2", "<f2", 'F', {2, 5}},
      {"be_u4", ">u4", 'C', {6}},
      {"f_i1", "|i1", 'F', {3, 3}},
      {"u1", "|u1", 'C', {10}},
      {"f_rank4", "<f8", 'F', {2, 3, 1, 4}},
      {"be_f_rank4", ">i8", 'F', {3, 1, 2, 5}},
  };
  TempDir dir;
  auto [status, output] = RunHelper(dir, "save " + WriteSpec(dir, cases));
  ASSERT_EQ(status, 0) << output;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto path = dir.path() / (c.name + ".npy");
    ASSERT_OK_AND_ASSIGN(NpyDescr descr, ParseNpyDescr(c.descr, c.name));
    Bytes bytes = ToBytes(ReadFileOrDie(path));
    ASSERT_OK_AND_ASSIGN(NpyHeader header, ParseNpyHeader(bytes, path.string()));
    // NumPy writes C order for arrays that are both C and F contiguous.
    bool both = c.shape.size() < 2 || NumElements(c.shape).value() == 0;
    EXPECT_EQ(header.fortran_order, c.order == 'F' && !both);
    EXPECT_EQ(header.big_endian, descr.big_endian);
    ASSERT_OK_AND_ASSIGN(Array array, ReadNpyFile(path));
    Array expected = Expected(descr.dtype, c.shape);
    EXPECT_TRUE(BitwiseEqual(array.view(), expected.view()))
        << DTypeName(array.dtype()) << " " << ShapeToString(array.shape());
  }
}

TEST(NpyNumpyTest, WritesWhatNumpySaves) {
  if (!HaveNumpy()) GTEST_SKIP() << kPython << " cannot import numpy";
  const std::vector<Shape> shapes = {
      {},
      {0},
      {1},
      {7},
      {3, 0},
      {2, 3},
      {17, 5},
      {0, 4, 2},
      {2, 3, 4},
      {1, 2, 3, 4},
      {2, 0, 1, 3},
      {1000000000000, 0},
      {0, 1000000000000},
      {100000000000000000, 0},
      {0, 100000000000000000, 5},
      {123456789, 0, 1},
      {1, 1, 1, 1, 1, 1, 1, 1, 1},
      // Headers that end exactly on a multiple of 64 before padding (3- and
      // 4-character descrs): NumPy then pads a whole 64 bytes.
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100},
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10},
  };
  std::vector<Case> cases;
  for (DType dtype : kAllDTypes) {
    if (IsMlDtype(dtype)) continue;  // NumPy has no name of its own for these
    for (const Shape& shape : shapes) {
      cases.push_back({std::string(DTypeName(dtype)) + "_" + std::to_string(cases.size()),
                       DescrOf(dtype), 'C', shape});
    }
  }
  TempDir numpy_dir;
  auto [status, output] = RunHelper(numpy_dir, "save " + WriteSpec(numpy_dir, cases));
  ASSERT_EQ(status, 0) << output;
  TempDir our_dir;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + " " + ShapeToString(c.shape));
    auto ours = our_dir.path() / (c.name + ".npy");
    Array array = Expected(ParseNpyDescr(c.descr, "").value().dtype, c.shape);
    ASSERT_OK(WriteNpyFile(ours, array.view()));
    std::string theirs = ReadFileOrDie(numpy_dir.path() / (c.name + ".npy"));
    EXPECT_EQ(ReadFileOrDie(ours), theirs);
    EXPECT_EQ(AsStringView(EncodeNpyHeader(array.view())), theirs.substr(0, theirs.find('\n') + 1));
  }

  // A header too long for version 1.0.
  auto header2 = numpy_dir.path() / "header2";
  auto [status2, output2] = RunHelper(numpy_dir, "header2 '" + header2.string() + "'");
  ASSERT_EQ(status2, 0) << output2;
  if (output2 == "OK") {
    Array array = Array::Zeros(DType::kInt16, Shape(30000, 1)).value();
    EXPECT_EQ(AsStringView(EncodeNpyHeader(array.view())), ReadFileOrDie(header2));
  }
}

TEST(NpyNumpyTest, NumpyLoadsWhatWeWrite) {
  if (!HaveNumpy()) GTEST_SKIP() << kPython << " cannot import numpy";
  const bool have_ml_dtypes = PythonCan("ml_dtypes");
  const std::vector<Shape> shapes = {{}, {0}, {5}, {3, 0}, {2, 3}, {2, 3, 4}, {2, 1, 3, 2}};
  std::vector<Case> cases;
  for (DType dtype : kAllDTypes) {
    if (IsMlDtype(dtype) && !have_ml_dtypes) continue;
    for (const Shape& shape : shapes) {
      cases.push_back({std::string(DTypeName(dtype)) + "_" + std::to_string(cases.size()),
                       DescrOf(dtype), 'C', shape});
    }
  }
  TempDir dir;
  for (const Case& c : cases) {
    Array array = Expected(ParseNpyDescr(c.descr, "").value().dtype, c.shape);
    ASSERT_OK(WriteNpyFile(dir.path() / (c.name + ".npy"), array.view()));
  }
  auto [status, output] = RunHelper(dir, "check " + WriteSpec(dir, cases));
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "OK");
  if (!have_ml_dtypes) {
    std::printf("note: ml_dtypes not importable; bfloat16/float8 files not checked by NumPy\n");
  }
}

}  // namespace
}  // namespace stowage::npy
