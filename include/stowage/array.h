// stowage layer: base
//
// n-dimensional host arrays in C order. `Array` owns its bytes; `ArrayView`
// borrows them from the caller (who keeps them alive while the view is used).
// Both allow any rank, including 0 (a scalar) and dimensions of length 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "stowage/bytes.h"
#include "stowage/dtype.h"
#include "stowage/error.h"

namespace stowage {

using Shape = std::vector<std::int64_t>;

// Product of `shape`, or kInvalidArgument when a dimension is negative or the
// product overflows int64.
Result<std::int64_t> NumElements(std::span<const std::int64_t> shape);

// Element count times item size, checked for overflow.
Result<std::size_t> NumBytes(std::span<const std::int64_t> shape, DType dtype);

// "[4, 6]"
std::string ShapeToString(std::span<const std::int64_t> shape);

// A borrowed, read-only, C-ordered, contiguous n-d array.
class ArrayView {
 public:
  ArrayView() = default;
  // REQUIRES: data.size() == NumBytes(shape, dtype). Use Make() to check.
  ArrayView(DType dtype, Shape shape, std::span<const std::byte> data)
      : dtype_(dtype), shape_(std::move(shape)), data_(data) {}

  // A view over `data`, or kInvalidArgument when its size does not match.
  static Result<ArrayView> Make(DType dtype, Shape shape, std::span<const std::byte> data);

  // A view over typed caller memory.
  template <typename T>
  static Result<ArrayView> Of(Shape shape, std::span<const T> values) {
    return Make(kDTypeOf<T>, std::move(shape), std::as_bytes(values));
  }

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  std::int64_t num_elements() const;
  std::span<const std::byte> bytes() const { return data_; }

 private:
  DType dtype_ = DType::kFloat32;
  Shape shape_;
  std::span<const std::byte> data_;
};

// An owning, C-ordered, contiguous n-d array. Move-only; Copy() is explicit.
class Array {
 public:
  Array() = default;
  Array(Array&&) noexcept = default;
  Array& operator=(Array&&) noexcept = default;

  // An array whose elements are unspecified (not zeroed), or kInvalidArgument
  // for a bad shape, or kResourceExhausted when allocation fails.
  static Result<Array> Uninitialized(DType dtype, Shape shape);
  // An array of zeros (false, 0, +0.0).
  static Result<Array> Zeros(DType dtype, Shape shape);
  // A deep copy of `view`.
  static Result<Array> CopyOf(const ArrayView& view);
  // An array holding `values` (size must equal the element count of `shape`).
  template <typename T>
  static Result<Array> FromValues(Shape shape, std::span<const T> values) {
    STOWAGE_ASSIGN_OR_RETURN(ArrayView view, ArrayView::Of<T>(std::move(shape), values));
    return CopyOf(view);
  }
  // A 0-d array holding `value`.
  template <typename T>
  static Array Scalar(T value) {
    Array a = Uninitialized(kDTypeOf<T>, {}).value();
    std::memcpy(a.data_.get(), &value, sizeof(T));
    return a;
  }

  Array Copy() const { return CopyOf(view()).value(); }

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  std::int64_t num_elements() const;
  std::size_t num_bytes() const { return num_bytes_; }

  std::span<const std::byte> bytes() const { return {data_.get(), num_bytes_}; }
  std::span<std::byte> mutable_bytes() { return {data_.get(), num_bytes_}; }
  ArrayView view() const { return ArrayView(dtype_, shape_, bytes()); }

  // Typed access. REQUIRES: kDTypeOf<T> == dtype().
  template <typename T>
  std::span<const T> values() const {
    assert(kDTypeOf<T> == dtype_);
    return {reinterpret_cast<const T*>(data_.get()), num_bytes_ / sizeof(T)};
  }
  template <typename T>
  std::span<T> mutable_values() {
    assert(kDTypeOf<T> == dtype_);
    return {reinterpret_cast<T*>(data_.get()), num_bytes_ / sizeof(T)};
  }

  // This array converted to `dtype` with CastElements' semantics.
  Result<Array> AsType(DType dtype) const;

 private:
  DType dtype_ = DType::kFloat32;
  Shape shape_;
  std::size_t num_bytes_ = 0;
  struct Free {
    void operator()(std::byte* p) const { FreeBuffer(p); }
  };
  std::unique_ptr<std::byte[], Free> data_;
};

// True when both have the same dtype, shape and bytes.
bool BitwiseEqual(const ArrayView& a, const ArrayView& b);

}  // namespace stowage
