// stowage layer: tree
//
// Leaf values of a checkpoint tree and the per-leaf save and restore
// arguments, after Orbax's `SaveArgs` / `RestoreArgs`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "stowage/array.h"
#include "stowage/sharding.h"

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
// scalar, a string, or this process's part of an array sharded over
// processes (saved as Orbax saves a jax.Array).
using Leaf = std::variant<Array, ArrayView, Scalar, std::string, ShardedArray>;

// The shape, dtype and bytes of an array or scalar leaf (and of a sharded
// array whose one shard is the whole array); nullptr otherwise.
const ArrayView* ArrayViewOf(const Leaf& leaf, ArrayView& storage);

// A checkpoint tree, after a JAX pytree: string-keyed maps (kept in
// insertion order), sequences, leaves, and None. Empty maps, empty sequences
// and None are "empty nodes": Orbax records them in `_METADATA` only.
class Tree {
 public:
  using Map = std::vector<std::pair<std::string, Tree>>;
  using Sequence = std::vector<Tree>;

  Tree() = default;  // None
  // A leaf: an Array, ArrayView, Scalar or string (or a Leaf holding one).
  template <typename T>
  requires std::is_constructible_v<Leaf, T&&> Tree(T&& value)
      : node_(Leaf(std::forward<T>(value))) {}  // NOLINT: a leaf is a tree
  static Tree EmptyMap() { return Tree(Map{}); }
  static Tree EmptySequence() { return Tree(Sequence{}); }

  bool is_none() const { return node_.index() == 0; }
  bool is_leaf() const { return node_.index() == 1; }
  bool is_map() const { return node_.index() == 2; }
  bool is_sequence() const { return node_.index() == 3; }

  // The child under `key`, added (as None) when absent; a None node becomes
  // a map first. REQUIRES: !is_leaf() && !is_sequence().
  Tree& operator[](std::string_view key);
  // The child under `key` of a map, or nullptr.
  const Tree* Find(std::string_view key) const;
  Tree* Find(std::string_view key);
  // Appends `child`; a None node becomes a sequence first.
  // REQUIRES: !is_leaf() && !is_map().
  Tree& Append(Tree child);

  // REQUIRES: the matching is_*().
  const Leaf& leaf() const { return std::get<Leaf>(node_); }
  Leaf& leaf() { return std::get<Leaf>(node_); }
  const Map& map() const { return std::get<Map>(node_); }
  Map& map() { return std::get<Map>(node_); }
  const Sequence& sequence() const { return std::get<Sequence>(node_); }
  Sequence& sequence() { return std::get<Sequence>(node_); }

 private:
  explicit Tree(Map map) : node_(std::move(map)) {}
  explicit Tree(Sequence sequence) : node_(std::move(sequence)) {}
  std::variant<std::monostate, Leaf, Map, Sequence> node_;
};

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
  // The type handler to save the leaf with, by its `_METADATA` value_type
  // ("np.ndarray", "jax.Array", a CustomTypeHandler's typestr); empty: chosen
  // by the leaf's kind and the checkpoint handler's options.
  std::string value_type;
};

// Per-leaf restore options (Orbax `RestoreArgs`).
struct RestoreArgs {
  RestoreType restore_type = RestoreType::kAsSaved;
  // Convert the stored values to this dtype while reading.
  std::optional<DType> dtype;
  // Read missing chunks as the fill value even when the checkpoint says all
  // data was written (Orbax raises in that case; so does stowage by default).
  bool allow_missing_chunks = false;
  // Restore as a ShardedArray holding this process's box of `sharding`
  // (reading only the chunks overlapping it); its process count must be
  // the restoring job's. Unset: the whole array.
  std::optional<Sharding> sharding;
  // Restore an array (not a scalar, not with `sharding`) into this caller
  // memory, which must hold exactly its elements in C order (in `dtype` when
  // set); the restored leaf is then an ArrayView of it. Chunks stored
  // uncompressed, in that dtype and lying contiguously there (whole arrays
  // and C-order slabs) are read straight into place. Errors:
  // kInvalidArgument (the size differs, or restore_type kScalar). Arrays of
  // legacy layouts without `_METADATA` and scalars ignore it.
  std::span<std::byte> into;
};

}  // namespace stowage
