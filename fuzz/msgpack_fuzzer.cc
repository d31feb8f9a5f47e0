// Fuzzes the legacy msgpack checkpoint reader
// (tree::DecodeMsgpackCheckpoint) with a 64 MiB budget for decoded leaves.
// Invariants: every array leaf holds exactly shape x item size bytes, and
// the decoded arrays fit the budget.
#include <cstddef>
#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <variant>

#include "fuzz_input.h"
#include "tree/msgpack_checkpoint.h"

namespace {

using namespace stowage;  // NOLINT

constexpr std::uint64_t kMaxBytes = std::uint64_t{64} << 20;

void CheckLeaf(const tree::MsgpackLeaf& leaf, std::uint64_t& array_bytes) {
  if (const auto* array = std::get_if<Array>(&leaf.value)) {
    auto bytes = NumBytes(array->shape(), array->dtype());
    fuzz::Check(bytes.has_value() && *bytes == array->num_bytes(), "an array is shape x item");
    array_bytes += array->num_bytes();
  }
  (void)tree::JoinMsgpackPath(leaf.path, "/");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto leaves =
      tree::DecodeMsgpackCheckpoint(std::as_bytes(std::span(data, size)), "checkpoint", kMaxBytes);
  if (!leaves) return 0;
  std::uint64_t array_bytes = 0;
  for (const auto& leaf : *leaves) CheckLeaf(leaf, array_bytes);
  fuzz::Check(array_bytes <= kMaxBytes, "decoded arrays fit the budget");
  return 0;
}

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackStr(Packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void PackExt(Packer& p, std::int8_t type, const msgpack::sbuffer& payload) {
  p.pack_ext(payload.size(), type);
  p.pack_ext_body(payload.data(), static_cast<std::uint32_t>(payload.size()));
}

// Flax's ndarray payload: [shape, dtype name, C-order bytes].
msgpack::sbuffer Ndarray(std::initializer_list<std::uint64_t> shape, std::string_view dtype,
                         std::size_t bytes) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_array(3);
  p.pack_array(static_cast<std::uint32_t>(shape.size()));
  for (std::uint64_t d : shape) p.pack_uint64(d);
  PackStr(p, dtype);
  Bytes data = fuzz::SampleData(bytes);
  p.pack_bin(static_cast<std::uint32_t>(bytes));
  p.pack_bin_body(reinterpret_cast<const char*>(data.data()), static_cast<std::uint32_t>(bytes));
  return b;
}

fuzz::Seed SeedOf(std::string name, const msgpack::sbuffer& b) {
  return fuzz::MakeSeed(std::move(name), {}, std::as_bytes(std::span(b.data(), b.size())));
}

// Every leaf kind of a Flax / Orbax aggregate file in one nested map.
msgpack::sbuffer EveryLeafKind() {
  msgpack::sbuffer b, complex, tuple;
  Packer p(b), c(complex), t(tuple);
  c.pack_array(2);
  c.pack_double(1.5);
  c.pack_double(-2);
  t.pack_array(2);
  t.pack_int(1);
  PackExt(t, 1, Ndarray({1}, "bfloat16", 2));
  p.pack_map(4);
  PackStr(p, "params");
  p.pack_map(3);
  PackStr(p, "w");
  PackExt(p, 1, Ndarray({2, 3}, "float32", 24));
  PackStr(p, "b");
  PackExt(p, 3, Ndarray({}, "int16", 2));
  PackStr(p, "c");
  PackExt(p, 2, complex);
  PackStr(p, "opt_state");
  p.pack_array(5);
  p.pack_int64(-5);
  p.pack_double(0.25);
  p.pack_true();
  p.pack_nil();
  PackExt(p, 4, tuple);
  PackStr(p, "step");
  p.pack_uint64(7);
  PackStr(p, "placeholder");
  p.pack_map(2);
  PackStr(p, "z");
  PackStr(p, "PLACEHOLDER://placeholder.z");
  PackStr(p, "empty");
  p.pack_map(0);
  return b;
}

// A Flax array split into chunks ("__msgpack_chunked_array__").
msgpack::sbuffer ChunkedArray() {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_map(1);
  PackStr(p, "w");
  p.pack_map(3);
  PackStr(p, "__msgpack_chunked_array__");
  p.pack_true();
  PackStr(p, "shape");
  p.pack_map(2);
  PackStr(p, "0");
  p.pack_uint64(2);
  PackStr(p, "1");
  p.pack_uint64(3);
  PackStr(p, "chunks");
  p.pack_map(2);
  PackStr(p, "0");
  PackExt(p, 1, Ndarray({4}, "float32", 16));
  PackStr(p, "1");
  PackExt(p, 1, Ndarray({2}, "float32", 8));
  return b;
}

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  seeds.push_back(SeedOf("every_leaf_kind", EveryLeafKind()));
  seeds.push_back(SeedOf("chunked_array", ChunkedArray()));
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_map(2);
  p.pack_int(3);
  PackExt(p, 1, Ndarray({0, 3}, "bool", 0));
  PackStr(p, "f8");
  PackExt(p, 1, Ndarray({2}, "complex128", 32));
  seeds.push_back(SeedOf("int_key_empty_array", b));
  return seeds;
}
