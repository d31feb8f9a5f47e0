#include "npy/npz.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "base/bytes.h"
#include "testutil/testutil.h"

namespace stowage::npy {
namespace {

TEST(NpzTest, WritesAndReadsBackEveryMemberInOrder) {
  testing::TempDir tmp;
  Array a = Array::FromValues<float>({2, 2}, std::vector<float>{1, 2, 3, 4}).value();
  Array b = Array::Scalar(std::int64_t{7});
  Array c = Array::Zeros(DType::kBfloat16, {3, 0}).value();
  auto path = tmp.path() / "t.npz";
  ASSERT_OK(WriteNpzFile(path, {{"params/w", a.view()}, {"step", b.view()}, {"empty", c.view()}}));
  ASSERT_OK_AND_ASSIGN(auto arrays, ReadNpzFile(path));
  ASSERT_EQ(arrays.size(), 3u);
  EXPECT_EQ(arrays[0].name, "params/w");
  EXPECT_TRUE(BitwiseEqual(arrays[0].array.view(), a.view()));
  EXPECT_EQ(arrays[1].name, "step");
  EXPECT_TRUE(BitwiseEqual(arrays[1].array.view(), b.view()));
  EXPECT_EQ(arrays[2].array.shape(), (Shape{3, 0}));
  EXPECT_EQ(arrays[2].array.dtype(), DType::kBfloat16);
  ASSERT_OK(WriteNpzFile(tmp.path() / "none.npz", {}));
  ASSERT_OK_AND_ASSIGN(auto none, ReadNpzFile(tmp.path() / "none.npz"));
  EXPECT_TRUE(none.empty());
}

TEST(NpzTest, BadArchivesAndNamesAreTypedErrors) {
  testing::TempDir tmp;
  Array a = Array::Scalar(1.0f);
  EXPECT_ERROR_CODE(WriteNpzFile(tmp.path() / "x.npz", {{"a", a.view()}, {"a", a.view()}}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(ReadNpzFile(tmp.path() / "absent.npz"), ErrorCode::kNotFound);
  std::ofstream(tmp.path() / "junk.npz") << "not a zip archive at all";
  auto junk = ReadNpzFile(tmp.path() / "junk.npz");
  EXPECT_ERROR_CODE(junk, ErrorCode::kDataLoss);
  EXPECT_NE(junk.error().message().find("junk.npz"), std::string::npos);
  ASSERT_OK(WriteNpzFile(tmp.path() / "ok.npz", {{"a", a.view()}}));
  std::string bytes = testing::ReadFileOrDie(tmp.path() / "ok.npz");
  for (std::size_t cut : {bytes.size() / 2, bytes.size() - 10}) {
    std::ofstream(tmp.path() / "cut.npz", std::ios::binary) << bytes.substr(0, cut);
    EXPECT_ERROR_CODE(ReadNpzFile(tmp.path() / "cut.npz"), ErrorCode::kDataLoss);
  }
  EXPECT_ERROR_CODE(ReadNpzFile(tmp.path() / "ok.npz", 8), ErrorCode::kResourceExhausted);
}

TEST(NpzTest, DecodesArchivesInMemoryAsFilesAre) {
  testing::TempDir tmp;
  Array a = Array::FromValues<float>({2}, std::vector<float>{1, 2}).value();
  ASSERT_OK(WriteNpzFile(tmp.path() / "ok.npz", {{"w", a.view()}}));
  std::string file = testing::ReadFileOrDie(tmp.path() / "ok.npz");
  ASSERT_OK_AND_ASSIGN(auto arrays, DecodeNpz(AsBytes(file), "mem.npz"));
  ASSERT_EQ(arrays.size(), 1u);
  EXPECT_EQ(arrays[0].name, "w");
  EXPECT_TRUE(BitwiseEqual(arrays[0].array.view(), a.view()));
  EXPECT_ERROR_CODE(DecodeNpz(AsBytes(file), "mem.npz", 8), ErrorCode::kResourceExhausted);
  auto cut = DecodeNpz(AsBytes(file).first(file.size() / 2), "cut.npz");
  EXPECT_ERROR_CODE(cut, ErrorCode::kDataLoss);
  EXPECT_NE(cut.error().message().find("cut.npz"), std::string::npos);
  EXPECT_ERROR_CODE(DecodeNpz(AsBytes("not a zip archive"), "junk.npz"), ErrorCode::kDataLoss);
}

// numpy itself reads what stowage writes and writes what stowage reads.
TEST(NpzTest, NumpyInterop) {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
    GTEST_SKIP() << "no numpy";
  }
  testing::TempDir tmp;
  Array a = Array::FromValues<std::int16_t>({3}, std::vector<std::int16_t>{-1, 0, 1}).value();
  ASSERT_OK(WriteNpzFile(tmp.path() / "s.npz", {{"a/b", a.view()}}));
  std::string script =
      "/usr/bin/python3 -c \"import numpy as np; z = np.load('" + (tmp.path() / "s.npz").string() +
      "'); assert list(z['a/b']) == [-1, 0, 1] and z['a/b'].dtype == np.int16; "
      "np.savez_compressed('" +
      (tmp.path() / "n.npz").string() + "', x=np.arange(6, dtype=np.float64).reshape(2, 3))\"";
  ASSERT_EQ(std::system(script.c_str()), 0);
  ASSERT_OK_AND_ASSIGN(auto arrays, ReadNpzFile(tmp.path() / "n.npz"));
  ASSERT_EQ(arrays.size(), 1u);
  EXPECT_EQ(arrays[0].name, "x");
  EXPECT_EQ(arrays[0].array.shape(), (Shape{2, 3}));
  EXPECT_EQ(arrays[0].array.values<double>()[5], 5.0);
}

}  // namespace
}  // namespace stowage::npy
