// stowage layer: tree
//
// Leaf values of a checkpoint tree and the per-leaf save and restore
// arguments, after Orbax's `SaveArgs` / `RestoreArgs`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "stowage/array.h"

namespace stowage {

// A single number that restores as a number (Orbax value_type "scalar";
// Python int -> int64, float -> float64, bool -> bool).
class Scalar {
 public:
  template <typename T>
  static Scalar Of(T value) {
    return Scalar(Array::Scalar(value));
  }
  // Wraps a 0-d array. Errors: kInvalidArgument when `value` is not 0-d.
  static Result<Scalar> FromArray(Array value);

  DType dtype() const { return value_.dtype(); }
  // The value converted to T with CastElements' semantics.
  template <typename T>
  T As() const {
    T out{};
    CastElements(value_.dtype(), value_.bytes(), kDTypeOf<T>,
                 std::as_writable_bytes(std::span<T>(&out, 1)), 1);
    return out;
  }
  // The value as a 0-d array.
  const Array& array() const { return value_; }

 private:
  explicit Scalar(Array value) : value_(std::move(value)) {}
  Array value_;
};

// What a leaf of a checkpoint tree holds: an owned array (saved without a
// copy), a view of caller memory (copied when a save snapshots it), a
// scalar, or a string.
using Leaf = std::variant<Array, ArrayView, Scalar, std::string>;

// The shape, dtype and bytes of an array or scalar leaf; nullptr for strings.
const ArrayView* ArrayViewOf(const Leaf& leaf, ArrayView& storage);

// What a leaf restores as.
enum class RestoreType {
  kAsSaved,  // as the checkpoint's metadata says (scalar -> Scalar, arrays -> Array)
  kArray,    // always an Array (a scalar becomes a 0-d array)
  kScalar,   // a Scalar; kInvalidArgument when the stored value is not 0-d
};

// Per-leaf save options (Orbax `SaveArgs`).
struct SaveArgs {
  // Store the values converted to this dtype.
  std::optional<DType> dtype;
  // Upper bound on one chunk's bytes; chunks then divide the array as Orbax's
  // choose_chunk_shape splits it. Unset: one chunk per array.
  std::optional<std::int64_t> chunk_byte_size;
  // Axes to split into chunks of length 1 first (Orbax `shard_axes`).
  std::vector<int> shard_axes;
};

// Per-leaf restore options (Orbax `RestoreArgs`).
struct RestoreArgs {
  RestoreType restore_type = RestoreType::kAsSaved;
  // Convert the stored values to this dtype while reading.
  std::optional<DType> dtype;
  // Read missing chunks as the fill value even when the checkpoint says all
  // data was written (Orbax raises in that case; so does stowage by default).
  bool allow_missing_chunks = false;
};

}  // namespace stowage
