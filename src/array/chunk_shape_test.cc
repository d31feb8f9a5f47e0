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

TEST(SlabChunkShapeTest, CutsLeadingDimensionsAtDivisors) {
  // 32 KiB rows, 16 MiB slabs: 512 rows (a divisor of 16384).
  EXPECT_EQ(SlabChunkShape(Shape{16384, 8192}, DType::kFloat32, 16 << 20), (Shape{512, 8192}));
  // Small arrays, scalars and zero-length dimensions stay one chunk.
  EXPECT_EQ(SlabChunkShape(Shape{10, 10}, DType::kFloat64, 16 << 20), (Shape{10, 10}));
  EXPECT_EQ(SlabChunkShape(Shape{}, DType::kFloat32, 4), Shape{});
  EXPECT_EQ(SlabChunkShape(Shape{0, 3}, DType::kInt8, 16), (Shape{1, 3}));
}

TEST(SlabChunkShapeTest, PrefersFullSlabsOverSmallDivisors) {
  // 4 MiB rows, 8 MiB slabs: 7 has no divisor near 2, so 2 rows and a partial edge chunk.
  EXPECT_EQ(SlabChunkShape(Shape{7, 1 << 20}, DType::kFloat32, 8 << 20), (Shape{2, 1 << 20}));
  // 6 rows of 1 KiB under 4 KiB slabs: the divisor 3 is within half of 4.
  EXPECT_EQ(SlabChunkShape(Shape{6, 1024}, DType::kInt8, 4096), (Shape{3, 1024}));
}

TEST(SlabChunkShapeTest, CutsInnerDimensionWhenOneRowIsTooLarge) {
  EXPECT_EQ(SlabChunkShape(Shape{4, 3, 8 << 20}, DType::kInt8, 1 << 20), (Shape{1, 1, 1 << 20}));
  // A chunk holds at least one element even under a tiny limit.
  EXPECT_EQ(SlabChunkShape(Shape{5}, DType::kFloat64, 3), (Shape{1}));
}

}  // namespace
}  // namespace stowage::array_io
