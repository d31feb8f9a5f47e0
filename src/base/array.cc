#include "stowage/array.h"

#include <new>

namespace stowage {

Result<std::int64_t> NumElements(std::span<const std::int64_t> shape) {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) {
    if (dim < 0) {
      return InvalidArgumentError("negative dimension in shape " + ShapeToString(shape));
    }
    if (__builtin_mul_overflow(count, dim, &count)) {
      return InvalidArgumentError("element count of shape " + ShapeToString(shape) +
                                  " overflows 64 bits");
    }
  }
  return count;
}

Result<std::size_t> NumBytes(std::span<const std::int64_t> shape, DType dtype) {
  STOWAGE_ASSIGN_OR_RETURN(std::int64_t count, NumElements(shape));
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<std::int64_t>(ItemSize(dtype)), &bytes)) {
    return InvalidArgumentError("byte size of shape " + ShapeToString(shape) + " overflows");
  }
  return static_cast<std::size_t>(bytes);
}

std::string ShapeToString(std::span<const std::int64_t> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

Result<ArrayView> ArrayView::Make(DType dtype, Shape shape, std::span<const std::byte> data) {
  STOWAGE_ASSIGN_OR_RETURN(std::size_t bytes, NumBytes(shape, dtype));
  if (bytes != data.size()) {
    return InvalidArgumentError("buffer of " + std::to_string(data.size()) +
                                " bytes does not hold a " + std::string(DTypeName(dtype)) +
                                " array of shape " + ShapeToString(shape) + " (" +
                                std::to_string(bytes) + " bytes)");
  }
  return ArrayView(dtype, std::move(shape), data);
}

std::int64_t ArrayView::num_elements() const { return NumElements(shape_).value(); }
std::int64_t Array::num_elements() const { return NumElements(shape_).value(); }

Result<Array> Array::Uninitialized(DType dtype, Shape shape) {
  STOWAGE_ASSIGN_OR_RETURN(std::size_t bytes, NumBytes(shape, dtype));
  Array array;
  array.dtype_ = dtype;
  array.shape_ = std::move(shape);
  array.num_bytes_ = bytes;
  // Always allocate at least one byte so data() is never null.
  array.data_.reset(static_cast<std::byte*>(AllocateBuffer(bytes)));
  if (!array.data_) {
    return ResourceExhaustedError("cannot allocate " + std::to_string(bytes) + " bytes");
  }
  return array;
}

Result<Array> Array::Zeros(DType dtype, Shape shape) {
  STOWAGE_ASSIGN_OR_RETURN(Array array, Uninitialized(dtype, std::move(shape)));
  std::memset(array.data_.get(), 0, array.num_bytes_);
  return array;
}

Result<Array> Array::CopyOf(const ArrayView& view) {
  STOWAGE_ASSIGN_OR_RETURN(Array array, Uninitialized(view.dtype(), view.shape()));
  if (!view.bytes().empty()) {
    std::memcpy(array.data_.get(), view.bytes().data(), view.bytes().size());
  }
  return array;
}

Result<Array> Array::AsType(DType dtype) const {
  STOWAGE_ASSIGN_OR_RETURN(Array out, Uninitialized(dtype, shape_));
  CastElements(dtype_, bytes(), dtype, out.mutable_bytes(),
               static_cast<std::size_t>(num_elements()));
  return out;
}

bool BitwiseEqual(const ArrayView& a, const ArrayView& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.bytes().size() == b.bytes().size() &&
         (a.bytes().empty() ||
          std::memcmp(a.bytes().data(), b.bytes().data(), a.bytes().size()) == 0);
}

}  // namespace stowage
