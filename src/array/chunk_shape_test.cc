#include "array/chunk_shape.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace stowage::array_io {
namespace {

// Vectors from orbax checkpoint/orbax/checkpoint/_src/arrays/subchunking_test.py
// (float32, so 4 bytes per element).
TEST(ChooseChunkShapeTest, MatchesOrbaxSubchunkingTests) {
  ASSERT_OK_AND_ASSIGN(Shape a, ChooseChunkShape(Shape{10, 500, 200}, Shape{10, 100, 200},
                                                 DType::kFloat32, 10 * 5 * 200 * 4));
  EXPECT_EQ(a, (Shape{10, 5, 200}));
  ASSERT_OK_AND_ASSIGN(Shape b, ChooseChunkShape(Shape{10, 100, 200}, Shape{10, 100, 100},
                                                 DType::kFloat32, 10 * 100 * 25 * 4));
  EXPECT_EQ(b, (Shape{10, 100, 25}));
  ASSERT_OK_AND_ASSIGN(Shape c, ChooseChunkShape(Shape{10, 500, 200}, Shape{10, 100, 200},
                                                 DType::kFloat32, 10 * 1 * 100 * 4));
  EXPECT_EQ(c, (Shape{10, 1, 100}));
}

TEST(ChooseChunkShapeTest, NoTargetKeepsWriteShapeWithZerosAsOne) {
  ASSERT_OK_AND_ASSIGN(
      Shape s, ChooseChunkShape(Shape{4, 0, 6}, Shape{4, 0, 6}, DType::kInt8, std::nullopt));
  EXPECT_EQ(s, (Shape{4, 1, 6}));
  ASSERT_OK_AND_ASSIGN(Shape scalar, ChooseChunkShape(Shape{}, Shape{}, DType::kInt64, 8));
  EXPECT_EQ(scalar, Shape{});
}

TEST(ChooseChunkShapeTest, UnshardedArraySplitsLargestDimensionFirst) {
  // 64x48 float32 = 12288 bytes; target 3072 bytes = 768 elements.
  // Largest dim 64 -> 32 (1536 el.) -> 48 is now largest -> 24 (768 el.).
  ASSERT_OK_AND_ASSIGN(Shape s,
                       ChooseChunkShape(Shape{64, 48}, Shape{64, 48}, DType::kFloat32, 3072));
  EXPECT_EQ(s, (Shape{32, 24}));
}

TEST(ChooseChunkShapeTest, ShardAxesAreReducedToOne) {
  ASSERT_OK_AND_ASSIGN(Shape s, ChooseChunkShape(Shape{8, 6}, Shape{8, 6}, DType::kFloat32,
                                                 std::nullopt, std::vector<int>{1}));
  EXPECT_EQ(s, (Shape{8, 1}));
}

TEST(ChooseChunkShapeTest, RejectsBadArguments) {
  EXPECT_ERROR_CODE(ChooseChunkShape(Shape{4}, Shape{4, 4}, DType::kFloat32, std::nullopt),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(ChooseChunkShape(Shape{4}, Shape{4}, DType::kFloat32, 3),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(
      ChooseChunkShape(Shape{4}, Shape{4}, DType::kFloat32, std::nullopt, std::vector<int>{1}),
      ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace stowage::array_io
