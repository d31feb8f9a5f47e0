// Reader for the legacy msgpack checkpoint file: the aggregate `checkpoint`
// file Orbax wrote before 2024 (orbax aggregate_handlers.py MsgpackHandler,
// msgpack_utils.py) and `flax.training.checkpoints` single-file checkpoints
// (flax serialization.py msgpack_serialize / msgpack_restore).
//
// The file is one msgpack value, normally a map of nested maps. Leaves are:
//   ext 1  numpy array: payload is msgpack [shape, dtype name, C-order bytes]
//                       -> Array (also when the shape is (), i.e. 0-d)
//   ext 2  Python complex: payload msgpack [real, imag] -> Scalar complex128
//   ext 3  numpy scalar: payload as ext 1 -> Scalar of that dtype (an Array
//          when the shape is not (), as numpy's `ar[()]` gives)
//   ext 4  tuple (Orbax only): payload is a msgpack array, decoded like one
//   int    -> Scalar int64 (uint64 above INT64_MAX); float -> Scalar float64;
//   bool   -> Scalar bool  (Python scalars, which Orbax restores as such)
//   str    -> std::string, including "PLACEHOLDER://<name>" strings that mark
//             leaves stored elsewhere (per-array zarr folders)
//   nil    -> std::monostate (Python None)
//   an empty map / array / tuple -> MsgpackEmptyContainer (no leaves below it)
// A map whose path from the root crosses only maps and that holds the key
// "__msgpack_chunked_array__" is one array split by Flax into flat chunks
// ({"shape": {"0": d0, ...}, "chunks": {"0": ext1, ...}}); it is reassembled
// into a single Array leaf.
//
// Paths: map keys become KeyType::kDict entries (int keys as their decimal
// text), msgpack array and tuple positions KeyType::kSequence entries "0",
// "1", .... Flax and Orbax write Python lists and tuples as maps with the
// string keys "0", "1", ...; those stay kDict entries named "0", "1", ...,
// which is what Orbax's param names ("opt_state.0.mu...") use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "stowage/array.h"
#include "stowage/error.h"
#include "stowage/tree.h"
#include "tree/tree_metadata.h"

namespace stowage::tree {

// The prefix of the strings Orbax stores in place of leaves written elsewhere.
inline constexpr std::string_view kMsgpackPlaceholderPrefix = "PLACEHOLDER://";

// The deepest nesting of maps, arrays and tuples the reader accepts (the
// Python msgpack unpacker's own limit is 1024).
inline constexpr std::size_t kMaxMsgpackDepth = 1000;
// The deepest nesting of ext-4 tuples (each is a msgpack document of its own,
// parsed recursively).
inline constexpr std::size_t kMaxMsgpackTupleDepth = 100;

// An empty container in the file (e.g. optax's EmptyState, Flax `{}`).
struct MsgpackEmptyContainer {
  enum class Kind { kMap, kArray, kTuple };
  Kind kind = Kind::kMap;
  bool operator==(const MsgpackEmptyContainer&) const = default;
};

// None, array, scalar, string, or empty container.
using MsgpackValue =
    std::variant<std::monostate, Array, Scalar, std::string, MsgpackEmptyContainer>;

// One leaf of a msgpack checkpoint: its key path (in file order) and value.
struct MsgpackLeaf {
  KeyPath path;
  MsgpackValue value;
};

// Decodes a whole msgpack checkpoint file. `where` names the file in error
// messages. `max_bytes` bounds the memory the decoded leaves may take (array
// bytes plus paths and bookkeeping); 0 means the machine's physical memory.
// Leaves come in file order. Errors:
//   kDataLoss: not msgpack, truncated, trailing bytes, a bad ext payload, an
//     unknown ext type or dtype name, shape/bytes mismatch, a bad chunked
//     array, duplicate or non-string/int map keys;
//   kResourceExhausted: nesting deeper than kMaxMsgpackDepth (or tuples deeper
//     than kMaxMsgpackTupleDepth), or more than
//     `max_bytes` decoded;
//   kUnsupported: a binary (bytes) leaf.
// Never throws.
Result<std::vector<MsgpackLeaf>> DecodeMsgpackCheckpoint(std::span<const std::byte> bytes,
                                                         std::string_view where,
                                                         std::uint64_t max_bytes = 0);

// The path's keys joined with `separator` ("params/dense/kernel" for "/",
// Orbax's param name for ".").
std::string JoinMsgpackPath(const KeyPath& path, std::string_view separator);

}  // namespace stowage::tree
