#include "tree/msgpack_checkpoint.h"

// Only the SAX-style parser of msgpack-cxx is used: it builds no object tree
// (so no allocation sized by counts a hostile file claims), walks nesting
// with a heap stack, and lets the visitor stop at any point. Boost is not
// needed for that.
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <complex>
#include <cstring>
#include <exception>
#include <limits>
#include <msgpack.hpp>
#include <new>
#include <optional>
#include <unordered_set>

#include "zarr/zarray.h"

namespace stowage::tree {
namespace {

constexpr std::string_view kChunkedMarker = "__msgpack_chunked_array__";
// numpy's NPY_MAXDIMS (64 since numpy 2).
constexpr std::uint32_t kMaxRank = 64;

// A visitor that rejects everything; the payload visitors below override
// what they accept. Returning false stops the parser.
struct RejectingVisitor {
  bool visit_nil() { return false; }
  bool visit_boolean(bool) { return false; }
  bool visit_positive_integer(std::uint64_t) { return false; }
  bool visit_negative_integer(std::int64_t) { return false; }
  bool visit_float32(float) { return false; }
  bool visit_float64(double) { return false; }
  bool visit_str(const char*, std::uint32_t) { return false; }
  bool visit_bin(const char*, std::uint32_t) { return false; }
  bool visit_ext(const char*, std::uint32_t) { return false; }
  bool start_array(std::uint32_t) { return false; }
  bool start_array_item() { return true; }
  bool end_array_item() { return true; }
  bool end_array() { return true; }
  bool start_map(std::uint32_t) { return false; }
  bool start_map_key() { return true; }
  bool end_map_key() { return true; }
  bool start_map_value() { return true; }
  bool end_map_value() { return true; }
  bool end_map() { return true; }
  void parse_error(std::size_t, std::size_t) {}
  void insufficient_bytes(std::size_t, std::size_t) {}
};

// Parses exactly one msgpack value filling `bytes` with `visitor`; false when
// the visitor stopped, the bytes are not msgpack, truncated, or followed by
// more bytes.
template <typename Visitor>
bool ParseWhole(std::span<const std::byte> bytes, Visitor& visitor) {
  std::size_t offset = 0;
  const bool ok =
      msgpack::parse(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset, visitor);
  return ok && offset == bytes.size();
}

// The payload of ext 1 and ext 3: msgpack [shape (array of ints), dtype name
// (str or bin), data (bin or str)].
struct NdarrayPayload : RejectingVisitor {
  int depth = 0;           // 1 inside the triple, 2 inside the shape
  std::uint32_t item = 0;  // position inside the triple
  Shape shape;
  std::optional<std::string_view> dtype_name;
  std::optional<std::span<const std::byte>> data;

  bool start_array(std::uint32_t n) {
    if (depth == 0 && n == 3) {
      depth = 1;
      return true;
    }
    if (depth == 1 && item == 0 && n <= kMaxRank) {
      depth = 2;
      return true;
    }
    return false;
  }
  bool end_array_item() {
    if (depth == 1) ++item;
    return true;
  }
  bool end_array() {
    --depth;
    return true;
  }
  bool visit_positive_integer(std::uint64_t v) {
    if (depth != 2 || v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return false;
    }
    shape.push_back(static_cast<std::int64_t>(v));
    return true;
  }
  bool Bytes(const char* v, std::uint32_t size) {
    if (depth != 1) return false;
    if (item == 1) {
      dtype_name = std::string_view(v, size);
    } else if (item == 2) {
      data = std::span<const std::byte>(reinterpret_cast<const std::byte*>(v), size);
    } else {
      return false;
    }
    return true;
  }
  bool visit_str(const char* v, std::uint32_t size) { return Bytes(v, size); }
  bool visit_bin(const char* v, std::uint32_t size) { return Bytes(v, size); }
};

// The payload of ext 2: msgpack [real, imag].
struct ComplexPayload : RejectingVisitor {
  int depth = 0;
  int count = 0;
  double parts[2] = {0, 0};

  bool start_array(std::uint32_t n) {
    if (depth != 0 || n != 2) return false;
    depth = 1;
    return true;
  }
  bool Number(double v) {
    if (depth != 1 || count >= 2) return false;
    parts[count++] = v;
    return true;
  }
  bool visit_positive_integer(std::uint64_t v) { return Number(static_cast<double>(v)); }
  bool visit_negative_integer(std::int64_t v) { return Number(static_cast<double>(v)); }
  bool visit_float32(float v) { return Number(v); }
  bool visit_float64(double v) { return Number(v); }
};

std::string PathText(const KeyPath& path) {
  return path.empty() ? std::string("(root)") : JoinMsgpackPath(path, "/");
}

// What a leaf costs in memory, for the max_bytes budget.
std::uint64_t Cost(const MsgpackLeaf& leaf) {
  std::uint64_t cost = sizeof(MsgpackLeaf) + leaf.path.size() * sizeof(KeyEntry);
  for (const KeyEntry& k : leaf.path) cost += k.key.size();
  if (const auto* a = std::get_if<Array>(&leaf.value)) cost += a->num_bytes();
  if (const auto* s = std::get_if<Scalar>(&leaf.value)) cost += s->array().num_bytes();
  if (const auto* s = std::get_if<std::string>(&leaf.value)) cost += s->size();
  return cost;
}

// State shared by the top-level decoder and the nested ones of ext-4 tuples.
struct DecodeState {
  std::string_view where;
  std::uint64_t max_bytes = 0;
  std::uint64_t used = 0;
  std::size_t tuple_depth = 0;  // ext-4 payloads being parsed
  std::vector<MsgpackLeaf> leaves;
  KeyPath path;
  std::optional<Error> error;

  bool Fail(Error e) {
    if (!error) error = std::move(e);
    return false;
  }
  bool DataLoss(const std::string& what) {
    return Fail(DataLossError(std::string(where) + ": at " + PathText(path) + ": " + what));
  }
  bool Charge(std::uint64_t bytes) {
    if (bytes > max_bytes || used > max_bytes - bytes) {
      return Fail(ResourceExhaustedError(std::string(where) + ": at " + PathText(path) +
                                         ": decoding needs more than the limit of " +
                                         std::to_string(max_bytes) + " bytes"));
    }
    used += bytes;
    return true;
  }
  bool Emit(MsgpackValue value) {
    MsgpackLeaf leaf{path, std::move(value)};
    if (!Charge(Cost(leaf))) return false;
    leaves.push_back(std::move(leaf));
    return true;
  }
};

// Decodes an ext 1 / ext 3 payload into an array.
std::optional<Array> DecodeNdarray(DecodeState& state, std::span<const std::byte> payload) {
  NdarrayPayload p;
  if (!ParseWhole(payload, p) || !p.dtype_name || !p.data) {
    state.DataLoss("bad numpy array payload (expected msgpack [shape, dtype name, bytes])");
    return std::nullopt;
  }
  auto dtype = ParseDTypeName(*p.dtype_name);
  if (!dtype) {
    state.DataLoss("numpy array of unknown dtype \"" + std::string(*p.dtype_name) + "\"");
    return std::nullopt;
  }
  auto num_bytes = NumBytes(p.shape, *dtype);
  if (!num_bytes || *num_bytes != p.data->size()) {
    state.DataLoss("numpy array of shape " + ShapeToString(p.shape) + " and dtype " +
                   std::string(DTypeName(*dtype)) + " has " + std::to_string(p.data->size()) +
                   " bytes of data");
    return std::nullopt;
  }
  if (*num_bytes > state.max_bytes) {
    state.Charge(*num_bytes);  // records kResourceExhausted
    return std::nullopt;
  }
  auto array = Array::Uninitialized(*dtype, std::move(p.shape));
  if (!array) {
    state.Fail(array.error().WithContext(std::string(state.where)));
    return std::nullopt;
  }
  if (!p.data->empty()) std::memcpy(array->mutable_bytes().data(), p.data->data(), *num_bytes);
  return std::move(array).value();
}

// Parses canonical "0", "1", ... keys (as Python's str(i)).
std::optional<std::size_t> IndexKey(std::string_view key) {
  if (key.empty() || key.size() > 9 || (key.size() > 1 && key[0] == '0')) return std::nullopt;
  std::size_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

// The msgpack-cxx visitor that turns the file into leaves. One instance per
// msgpack document: the file, or the payload of an ext-4 tuple.
class TreeVisitor {
 public:
  // `base_depth`: nesting outside this document; `under_sequence`: whether an
  // array or tuple encloses it (Flax only reassembles chunked arrays reached
  // through maps alone).
  TreeVisitor(DecodeState& state, std::size_t base_depth, bool under_sequence, bool is_tuple)
      : state_(state),
        base_depth_(base_depth),
        sequences_(under_sequence ? 1 : 0),
        is_tuple_(is_tuple) {}

  bool visit_nil() { return Leaf("nil", std::monostate{}); }
  bool visit_boolean(bool v) { return Leaf("bool", Scalar::Of(v)); }
  bool visit_positive_integer(std::uint64_t v) {
    if (expect_key_) return SetKey(std::to_string(v));
    if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Leaf("int", Scalar::Of(static_cast<std::int64_t>(v)));
    }
    return Leaf("int", Scalar::Of(v));
  }
  bool visit_negative_integer(std::int64_t v) {
    if (expect_key_) return SetKey(std::to_string(v));
    return Leaf("int", Scalar::Of(v));
  }
  bool visit_float32(float v) { return visit_float64(v); }
  bool visit_float64(double v) { return Leaf("float", Scalar::Of(v)); }
  bool visit_str(const char* v, std::uint32_t size) {
    if (expect_key_) return SetKey(std::string(v, size));
    return Leaf("str", std::string(v, size));
  }
  bool visit_bin(const char* v, std::uint32_t size) {
    // Python's unpacker (raw=False) gives bytes keys; Orbax names them by str().
    if (expect_key_) return SetKey(std::string(v, size));
    return state_.Fail(UnsupportedError(std::string(state_.where) + ": at " +
                                        PathText(state_.path) + ": binary (bytes) leaf"));
  }
  bool visit_ext(const char* v, std::uint32_t size);

  bool start_array(std::uint32_t n) { return Start(Container::kArray, n); }
  bool start_array_item() {
    state_.path.push_back({std::to_string(frames_.back().index), KeyType::kSequence});
    return true;
  }
  bool end_array_item() {
    state_.path.pop_back();
    ++frames_.back().index;
    return true;
  }
  bool end_array() { return End(); }
  bool start_map(std::uint32_t n) { return Start(Container::kMap, n); }
  bool start_map_key() {
    expect_key_ = true;
    return true;
  }
  bool end_map_key() {
    expect_key_ = false;
    return true;
  }
  bool start_map_value() {
    Frame& f = frames_.back();
    if (!f.keys.insert(f.key).second) return state_.DataLoss("duplicate map key \"" + f.key + "\"");
    if (f.key == kChunkedMarker) f.chunked = true;
    state_.path.push_back({std::move(f.key), KeyType::kDict});
    return true;
  }
  bool end_map_value() {
    state_.path.pop_back();
    return true;
  }
  bool end_map() { return End(); }

  void parse_error(std::size_t, std::size_t error_offset) {
    state_.Fail(DataLossError(std::string(state_.where) + ": " + Document() +
                              "not msgpack: invalid byte at offset " +
                              std::to_string(error_offset)));
  }
  void insufficient_bytes(std::size_t, std::size_t error_offset) {
    state_.Fail(DataLossError(std::string(state_.where) + ": " + Document() +
                              "truncated: the data ends at byte " + std::to_string(error_offset) +
                              " inside a value"));
  }

 private:
  enum class Container { kMap, kArray };
  struct Frame {
    Container kind;
    std::uint32_t size;
    std::size_t first_leaf;   // index in state_.leaves of the first leaf below
    std::uint32_t index = 0;  // next array position
    std::string key;          // the map key just read
    std::unordered_set<std::string> keys;
    bool chunked = false;
  };

  // Names a nested document in error messages.
  std::string Document() const {
    return is_tuple_ ? "at " + PathText(state_.path) + ": tuple payload " : std::string();
  }

  // Rejects a non-key type in key position.
  bool Key(const char* type) {
    if (!expect_key_) return true;
    return state_.DataLoss(std::string("a map key of type ") + type +
                           " (only strings and integers are supported)");
  }
  // Emits a scalar-like value, rejecting it in key position.
  bool Leaf(const char* type, MsgpackValue value) {
    return Key(type) && TopIsTupleArray() && state_.Emit(std::move(value));
  }
  bool SetKey(std::string key) {
    frames_.back().key = std::move(key);
    return true;
  }
  // A tuple payload's top value must be an array (Orbax calls tuple() on it).
  bool TopIsTupleArray() {
    if (is_tuple_ && frames_.empty())
      return state_.DataLoss("a tuple payload that is not an array");
    return true;
  }

  bool Start(Container kind, std::uint32_t n) {
    if (!Key(kind == Container::kMap ? "map" : "array")) return false;
    if (is_tuple_ && frames_.empty() && kind != Container::kArray) return TopIsTupleArray();
    if (base_depth_ + frames_.size() >= kMaxMsgpackDepth) {
      return state_.Fail(ResourceExhaustedError(
          std::string(state_.where) + ": at " + PathText(state_.path) +
          ": maps and arrays nested deeper than " + std::to_string(kMaxMsgpackDepth)));
    }
    frames_.push_back({kind, n, state_.leaves.size()});
    if (kind == Container::kArray) ++sequences_;
    return true;
  }

  bool End() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.kind == Container::kArray) --sequences_;
    if (f.size == 0) {
      using Kind = MsgpackEmptyContainer::Kind;
      Kind kind = f.kind == Container::kMap        ? Kind::kMap
                  : (is_tuple_ && frames_.empty()) ? Kind::kTuple
                                                   : Kind::kArray;
      return state_.Emit(MsgpackEmptyContainer{kind});
    }
    if (f.kind == Container::kMap && f.chunked && sequences_ == 0) return Unchunk(f.first_leaf);
    return true;
  }

  // Replaces the leaves of a Flax chunked-array map (from `first` on) by the
  // reassembled array.
  bool Unchunk(std::size_t first);

  DecodeState& state_;
  std::size_t base_depth_;
  int sequences_;
  bool is_tuple_;
  bool expect_key_ = false;
  std::vector<Frame> frames_;
};

bool TreeVisitor::visit_ext(const char* v, std::uint32_t size) {
  if (!Key("ext")) return false;
  if (!TopIsTupleArray()) return false;
  if (size == 0) return state_.DataLoss("an ext value without a type");
  const int code = static_cast<std::int8_t>(v[0]);
  std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(v + 1), size - 1);
  switch (code) {
    case 1:    // numpy array
    case 3: {  // numpy scalar
      std::optional<Array> array = DecodeNdarray(state_, payload);
      if (!array) return false;
      if (code == 3 && array->rank() == 0) {
        return state_.Emit(Scalar::FromArray(std::move(*array)).value());
      }
      return state_.Emit(std::move(*array));
    }
    case 2: {  // Python complex
      ComplexPayload p;
      if (!ParseWhole(payload, p) || p.count != 2) {
        return state_.DataLoss("bad complex payload (expected msgpack [real, imag])");
      }
      return state_.Emit(Scalar::Of(std::complex<double>(p.parts[0], p.parts[1])));
    }
    case 4: {  // tuple (Orbax's msgpack_utils)
      // Each nested tuple payload is parsed by a recursive call; bound them
      // separately so that the C stack stays small (a few hundred KB).
      if (state_.tuple_depth >= kMaxMsgpackTupleDepth) {
        return state_.Fail(ResourceExhaustedError(
            std::string(state_.where) + ": at " + PathText(state_.path) +
            ": tuples nested deeper than " + std::to_string(kMaxMsgpackTupleDepth)));
      }
      ++state_.tuple_depth;
      TreeVisitor nested(state_, base_depth_ + frames_.size(), true, /*is_tuple=*/true);
      const bool ok = ParseWhole(payload, nested);
      --state_.tuple_depth;
      if (ok) return true;
      return state_.error ? false : state_.DataLoss("bad tuple payload (trailing bytes)");
    }
    default:
      return state_.DataLoss("unknown msgpack ext type " + std::to_string(code));
  }
}

bool TreeVisitor::Unchunk(std::size_t first) {
  const std::size_t depth = state_.path.size();
  std::vector<std::optional<std::int64_t>> dims;
  std::vector<const Array*> chunks;
  auto place = [](auto& vec, std::size_t i, auto value) {
    if (vec.size() <= i) vec.resize(i + 1);
    vec[i] = value;
  };
  for (std::size_t i = first; i < state_.leaves.size(); ++i) {
    const MsgpackLeaf& leaf = state_.leaves[i];
    if (leaf.path.size() < depth + 1) return state_.DataLoss("bad chunked array");
    const std::string& field = leaf.path[depth].key;
    if (field != "shape" && field != "chunks") continue;  // Flax ignores other keys
    if (leaf.path.size() == depth + 1) {
      // An empty "shape" map is a 0-d shape; anything else is malformed.
      if (field == "shape" && std::holds_alternative<MsgpackEmptyContainer>(leaf.value)) continue;
      return state_.DataLoss("chunked array with a malformed \"" + field + "\"");
    }
    std::optional<std::size_t> index = IndexKey(leaf.path[depth + 1].key);
    if (leaf.path.size() != depth + 2 || !index || *index >= state_.leaves.size() - first) {
      return state_.DataLoss("chunked array with a malformed \"" + field + "\"");
    }
    if (field == "shape") {
      const auto* s = std::get_if<Scalar>(&leaf.value);
      if (!s || s->dtype() != DType::kInt64 || s->As<std::int64_t>() < 0) {
        return state_.DataLoss("chunked array with a shape entry that is not a size");
      }
      place(dims, *index, std::optional<std::int64_t>(s->As<std::int64_t>()));
    } else {
      const auto* a = std::get_if<Array>(&leaf.value);
      if (!a || a->rank() != 1)
        return state_.DataLoss("chunked array with a chunk that is not 1-d");
      place(chunks, *index, a);
    }
  }
  Shape shape;
  for (const auto& d : dims) {
    if (!d) return state_.DataLoss("chunked array with a gap in its shape");
    shape.push_back(*d);
  }
  if (chunks.empty()) return state_.DataLoss("chunked array without chunks");
  std::uint64_t total = 0;
  for (const Array* c : chunks) {
    if (!c) return state_.DataLoss("chunked array with a missing chunk");
    if (c->dtype() != chunks[0]->dtype()) {
      return state_.DataLoss("chunked array whose chunks differ in dtype");
    }
    total += c->num_bytes();
  }
  auto num_bytes = NumBytes(shape, chunks[0]->dtype());
  if (!num_bytes || *num_bytes != total) {
    return state_.DataLoss("chunked array of shape " + ShapeToString(shape) + " has " +
                           std::to_string(total) + " bytes in its chunks");
  }
  if (!state_.Charge(total)) return false;
  auto array = Array::Uninitialized(chunks[0]->dtype(), std::move(shape));
  if (!array) return state_.Fail(array.error().WithContext(std::string(state_.where)));
  std::size_t offset = 0;
  for (const Array* c : chunks) {
    if (c->num_bytes())
      std::memcpy(array->mutable_bytes().data() + offset, c->bytes().data(), c->num_bytes());
    offset += c->num_bytes();
  }
  for (std::size_t i = first; i < state_.leaves.size(); ++i) state_.used -= Cost(state_.leaves[i]);
  state_.used -= total;
  state_.leaves.resize(first);
  return state_.Emit(std::move(array).value());
}

}  // namespace

std::string JoinMsgpackPath(const KeyPath& path, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i) out += separator;
    out += path[i].key;
  }
  return out;
}

Result<std::vector<MsgpackLeaf>> DecodeMsgpackCheckpoint(std::span<const std::byte> bytes,
                                                         std::string_view where,
                                                         std::uint64_t max_bytes) {
  DecodeState state;
  state.where = where;
  state.max_bytes = zarr::MaxBytes(zarr::Limits{max_bytes});
  try {
    TreeVisitor visitor(state, 0, false, false);
    std::size_t offset = 0;
    const bool ok =
        msgpack::parse(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset, visitor);
    if (state.error) return *state.error;
    if (!ok) return DataLossError(std::string(where) + ": not msgpack");
    if (offset != bytes.size()) {
      return DataLossError(std::string(where) + ": " + std::to_string(bytes.size() - offset) +
                           " bytes after the msgpack value (at offset " + std::to_string(offset) +
                           ")");
    }
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError(std::string(where) + ": out of memory decoding msgpack");
  } catch (const std::exception& e) {
    return DataLossError(std::string(where) + ": msgpack: " + e.what());
  }
  return std::move(state.leaves);
}

}  // namespace stowage::tree
