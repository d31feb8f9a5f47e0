// Malformed, truncated and hostile .npy input, and file-system errors: each
// must give the documented error naming the file, never a crash or a huge
// allocation.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "npy/npy.h"
#include "testutil/testutil.h"

namespace stowage::npy {
namespace {

using ::stowage::testing::TempDir;

// A version-1.0 file with header text `dict` (unpadded) followed by `data`.
Bytes MakeFile(std::string_view dict, std::size_t data_size = 64, int major = 1) {
  Bytes out = ToBytes("\x93NUMPY");
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) {
    out.push_back(static_cast<std::byte>(dict.size() >> (8 * i)));
  }
  auto text = AsBytes(dict);
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), data_size, std::byte{0});
  return out;
}

void WriteFile(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

std::string Dict(std::string_view descr, std::string_view fortran, std::string_view shape) {
  return "{'descr': " + std::string(descr) + ", 'fortran_order': " + std::string(fortran) +
         ", 'shape': " + std::string(shape) + ", }";
}

TEST(NpyErrorsTest, MalformedHeaders) {
  struct Case {
    std::string dict;
    ErrorCode code;
  };
  const std::string deep = std::string(40, '(') + "1," + std::string(40, ')');
  const std::vector<Case> cases = {
      // Shape.
      {Dict("'<f4'", "False", "(-1,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3, -2)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3, 'a')"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3, True)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "[3, 4]"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "3"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "((3,),)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(9223372036854775808,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(4294967296, 4294967296)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(4611686018427387904,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(1000000000000,)"), ErrorCode::kDataLoss},  // > file
      {Dict("'<f4'", "False", "(3,, 4)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3 4)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3, 4"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(-,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", deep), ErrorCode::kDataLoss},
      // fortran_order.
      {Dict("'<f4'", "1", "(3,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "'False'", "(3,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "Tru", "(3,)"), ErrorCode::kDataLoss},
      {Dict("'<f4'", "None", "(3,)"), ErrorCode::kDataLoss},
      // descr.
      {Dict("5", "False", "(3,)"), ErrorCode::kDataLoss},
      {Dict("('<f4',)", "False", "(3,)"), ErrorCode::kDataLoss},
      {Dict("'<f4", "False", "(3,)"), ErrorCode::kDataLoss},
      {Dict("'<f\\n4'", "False", "(3,)"), ErrorCode::kDataLoss},
      {Dict("'<f3'", "False", "(3,)"), ErrorCode::kUnsupported},
      {Dict("'|O'", "False", "(3,)"), ErrorCode::kUnsupported},
      {Dict("'|V2'", "False", "(3,)"), ErrorCode::kUnsupported},
      {Dict("[('a', '<f4'), ('b', '<i4', (2,))]", "False", "(3,)"), ErrorCode::kUnsupported},
      // The dict itself.
      {"", ErrorCode::kDataLoss},
      {"   ", ErrorCode::kDataLoss},
      {"{", ErrorCode::kDataLoss},
      {"{}", ErrorCode::kDataLoss},
      {"{'descr': '<f4', 'fortran_order': False}", ErrorCode::kDataLoss},
      {"{'descr': '<f4', 'shape': (3,)}", ErrorCode::kDataLoss},
      {"{'fortran_order': False, 'shape': (3,)}", ErrorCode::kDataLoss},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (3,)}", ErrorCode::kDataLoss},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}", ErrorCode::kDataLoss},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", ErrorCode::kDataLoss},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
       ErrorCode::kDataLoss},
      {"{descr: '<f4', 'fortran_order': False, 'shape': (3,)}", ErrorCode::kDataLoss},
      {"{3: '<f4', 'fortran_order': False, 'shape': (3,)}", ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3,)") + " x", ErrorCode::kDataLoss},
      {Dict("'<f4'", "False", "(3,)") + "}", ErrorCode::kDataLoss},
      {"[" + Dict("'<f4'", "False", "(3,)") + "]", ErrorCode::kDataLoss},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)" + std::string(1, '\0') + "}",
       ErrorCode::kDataLoss},
  };
  TempDir dir;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dict);
    Bytes file = MakeFile(c.dict);
    auto decoded = DecodeNpy(file, "bad.npy");
    EXPECT_ERROR_CODE(decoded, c.code);
    EXPECT_NE(decoded.error().message().find("bad.npy"), std::string::npos)
        << decoded.error().message();
    auto path = dir.path() / "bad.npy";
    WriteFile(path, file);
    auto read = ReadNpyFile(path);
    EXPECT_ERROR_CODE(read, c.code);
    EXPECT_NE(read.error().message().find(path.string()), std::string::npos);
  }
}

TEST(NpyErrorsTest, BadPreamble) {
  Bytes good = MakeFile(Dict("'<f4'", "False", "(3,)"));
  Bytes bad_magic = good;
  bad_magic[1] = std::byte{'X'};
  EXPECT_ERROR_CODE(DecodeNpy(bad_magic, "x"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(DecodeNpy(ToBytes("PK\x03\x04 a zip file"), "x"), ErrorCode::kDataLoss);
  for (auto [major, minor] : {std::pair{0, 0}, {4, 0}, {1, 1}, {255, 255}}) {
    Bytes file = good;
    file[6] = static_cast<std::byte>(major);
    file[7] = static_cast<std::byte>(minor);
    EXPECT_ERROR_CODE(DecodeNpy(file, "x"), ErrorCode::kUnsupported);
  }
}

TEST(NpyErrorsTest, TruncationAtEveryOffset) {
  Array array = Array::Zeros(DType::kInt32, {2, 3}).value();
  Bytes file = EncodeNpyHeader(array.view());
  file.insert(file.end(), array.bytes().begin(), array.bytes().end());
  ASSERT_OK(DecodeNpy(file, "x"));
  TempDir dir;
  auto path = dir.path() / "cut.npy";
  for (std::size_t n = 0; n < file.size(); ++n) {
    SCOPED_TRACE(n);
    std::span<const std::byte> prefix(file.data(), n);
    EXPECT_ERROR_CODE(DecodeNpy(prefix, "x"), ErrorCode::kDataLoss);
    EXPECT_ERROR_CODE(ParseNpyHeader(prefix.first(std::min<std::size_t>(n, 127)), "x"),
                      ErrorCode::kDataLoss);
    WriteFile(path, prefix);
    auto read = ReadNpyFile(path);
    EXPECT_ERROR_CODE(read, ErrorCode::kDataLoss);
    EXPECT_NE(read.error().message().find(path.string()), std::string::npos);
  }
  // A version 2.0 file cut inside its 4-byte length field.
  Bytes v2 = MakeFile(Dict("'<f4'", "False", "(3,)"), 12, 2);
  for (std::size_t n = 8; n < 12; ++n) {
    EXPECT_ERROR_CODE(DecodeNpy(std::span(v2).first(n), "x"), ErrorCode::kDataLoss);
  }
  ASSERT_OK(DecodeNpy(v2, "x"));
}

TEST(NpyErrorsTest, RandomCorruptionNeverCrashes) {
  Array array = Array::Zeros(DType::kComplex64, {2, 3, 2}).value();
  Bytes good = EncodeNpyHeader(array.view());
  good.insert(good.end(), array.bytes().begin(), array.bytes().end());
  const std::string alphabet = "{}()[],:'\" -0123456789TrueFalsL<>|=fcibuV\n";
  std::mt19937 rng(42);
  int decoded = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    Bytes file = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % 128;  // the header
      file[at] = static_cast<std::byte>(rng() % 2 ? alphabet[rng() % alphabet.size()] : rng());
    }
    file.resize(rng() % 3 ? file.size() : rng() % file.size());
    auto result = DecodeNpy(file, "fuzz.npy");
    if (result.has_value()) {
      ++decoded;
      EXPECT_LE(result->num_bytes(), file.size());
    } else {
      EXPECT_NE(result.error().message().find("fuzz.npy"), std::string::npos);
    }
  }
  EXPECT_GT(decoded, 0);
}

TEST(NpyErrorsTest, HeaderLengthBeyondFile) {
  TempDir dir;
  for (int major : {1, 2}) {
    Bytes file = MakeFile(Dict("'<f4'", "False", "(3,)"), 12, major);
    std::size_t length_size = major == 1 ? 2 : 4;
    for (std::size_t i = 0; i < length_size; ++i) file[8 + i] = std::byte{0xFF};
    EXPECT_ERROR_CODE(DecodeNpy(file, "x"), ErrorCode::kDataLoss);
    WriteFile(dir.path() / "long.npy", file);
    EXPECT_ERROR_CODE(ReadNpyFile(dir.path() / "long.npy"), ErrorCode::kDataLoss);
  }
}

TEST(NpyErrorsTest, DataShorterThanShape) {
  TempDir dir;
  // Claims 8 TB; must fail before allocating.
  for (const char* shape : {"(1000000000000,)", "(1000000, 1000000)", "(3, 4)"}) {
    Bytes file = MakeFile(Dict("'<f8'", "True", shape), 40);
    auto decoded = DecodeNpy(file, "short.npy");
    EXPECT_ERROR_CODE(decoded, ErrorCode::kDataLoss);
    EXPECT_NE(decoded.error().message().find("short.npy"), std::string::npos);
    WriteFile(dir.path() / "short.npy", file);
    EXPECT_ERROR_CODE(ReadNpyFile(dir.path() / "short.npy"), ErrorCode::kDataLoss);
  }
}

TEST(NpyErrorsTest, FileSystemErrors) {
  TempDir dir;
  auto missing = dir.path() / "missing.npy";
  auto read = ReadNpyFile(missing);
  EXPECT_ERROR_CODE(read, ErrorCode::kNotFound);
  EXPECT_NE(read.error().message().find(missing.string()), std::string::npos);

  EXPECT_ERROR_CODE(ReadNpyFile(dir.path()), ErrorCode::kInvalidArgument);

  Array array = Array::Zeros(DType::kUint8, {4}).value();
  auto no_dir = dir.path() / "no" / "such" / "dir.npy";
  Status written = WriteNpyFile(no_dir, array.view());
  EXPECT_ERROR_CODE(written, ErrorCode::kNotFound);
  EXPECT_NE(written.error().message().find(no_dir.string()), std::string::npos);
  EXPECT_ERROR_CODE(WriteNpyFile(dir.path(), array.view()), ErrorCode::kIo);

  if (std::filesystem::exists("/dev/full")) {
    EXPECT_ERROR_CODE(WriteNpyFile("/dev/full", array.view()), ErrorCode::kResourceExhausted);
  }
  ArrayView wrong_size(DType::kFloat32, {4}, array.bytes());
  EXPECT_ERROR_CODE(WriteNpyFile(dir.path() / "w.npy", wrong_size), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace stowage::npy
