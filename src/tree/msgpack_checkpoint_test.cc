#include "tree/msgpack_checkpoint.h"

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <map>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "testutil/testutil.h"

namespace stowage::tree {
namespace {

// --- SHA-256 (FIPS 180-4), to compare with DECODED_SUMMARY.json's digests.
std::string Sha256Hex(std::span<const std::byte> data) {
  static constexpr std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::vector<std::uint8_t> msg(reinterpret_cast<const std::uint8_t*>(data.data()),
                                reinterpret_cast<const std::uint8_t*>(data.data()) + data.size());
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  msg.push_back(0x80);
  while (msg.size() % 64 != 56) msg.push_back(0);
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (std::size_t off = 0; off < msg.size(); off += 64) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (std::uint32_t{msg[off + 4 * i]} << 24) | (std::uint32_t{msg[off + 4 * i + 1]} << 16) |
             (std::uint32_t{msg[off + 4 * i + 2]} << 8) | std::uint32_t{msg[off + 4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      std::uint32_t t1 =
          hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  std::string hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint32_t v : h) {
    for (int i = 7; i >= 0; --i) hex += kHex[(v >> (4 * i)) & 15];
  }
  return hex;
}

TEST(Sha256Test, KnownVector) {
  std::string abc = "abc";
  EXPECT_EQ(Sha256Hex(std::as_bytes(std::span(abc))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

std::span<const std::byte> AsBytes(const std::string& s) { return std::as_bytes(std::span(s)); }

Result<std::vector<MsgpackLeaf>> Decode(const std::string& s, std::uint64_t max_bytes = 0) {
  return DecodeMsgpackCheckpoint(AsBytes(s), "test.msgpack", max_bytes);
}

// --- The fixtures, against DECODED_SUMMARY.json.

std::optional<DType> DTypeOfTypestr(const std::string& t) {
  static const std::map<std::string, DType> kTable = {
      {"|b1", DType::kBool},      {"|i1", DType::kInt8},       {"<i2", DType::kInt16},
      {"<i4", DType::kInt32},     {"<i8", DType::kInt64},      {"|u1", DType::kUint8},
      {"<u2", DType::kUint16},    {"<u4", DType::kUint32},     {"<u8", DType::kUint64},
      {"<f2", DType::kFloat16},   {"<f4", DType::kFloat32},    {"<f8", DType::kFloat64},
      {"<c8", DType::kComplex64}, {"<c16", DType::kComplex128}};
  auto it = kTable.find(t);
  if (it == kTable.end()) return std::nullopt;
  return it->second;
}

std::vector<double> AsDoubles(const Array& a) {
  std::vector<double> out(static_cast<std::size_t>(a.num_elements()));
  CastElements(a.dtype(), a.bytes(), DType::kFloat64, std::as_writable_bytes(std::span(out)),
               out.size());
  return out;
}

struct FixtureCase {
  const char* file;          // below shared/fixtures/orbax
  std::size_t array_leaves;  // arrays in DECODED_SUMMARY
  std::size_t other_leaves;  // PLACEHOLDER strings and None
  std::size_t empty_leaves;  // empty maps (not in DECODED_SUMMARY)
};

class MsgpackFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(MsgpackFixtureTest, MatchesDecodedSummary) {
  const FixtureCase& c = GetParam();
  auto path = testing::FixturePath(std::string("orbax/") + c.file);
  auto summary_path = testing::FixturePath("orbax/DECODED_SUMMARY.json");
  if (!path || !summary_path) GTEST_SKIP() << "fixture absent";
  const nlohmann::json summary =
      nlohmann::json::parse(testing::ReadFileOrDie(*summary_path)).at(c.file);
  const std::string bytes = testing::ReadFileOrDie(*path);
  ASSERT_OK_AND_ASSIGN(auto leaves, DecodeMsgpackCheckpoint(AsBytes(bytes), c.file));

  std::size_t arrays = 0, others = 0, empties = 0;
  std::set<std::string> seen;
  for (const MsgpackLeaf& leaf : leaves) {
    const std::string name = JoinMsgpackPath(leaf.path, "/");
    SCOPED_TRACE(name);
    for (const KeyEntry& k : leaf.path) EXPECT_EQ(k.type, KeyType::kDict);
    EXPECT_TRUE(seen.insert(name).second) << "duplicate leaf";
    if (std::holds_alternative<MsgpackEmptyContainer>(leaf.value)) {
      ++empties;
      EXPECT_FALSE(summary.contains(name));
      continue;
    }
    ASSERT_TRUE(summary.contains(name)) << "leaf not in DECODED_SUMMARY";
    const nlohmann::json& want = summary.at(name);
    if (want.contains("non_array_leaf")) {
      ++others;
      const std::string repr = want.at("non_array_leaf");
      if (repr == "None") {
        EXPECT_TRUE(std::holds_alternative<std::monostate>(leaf.value));
      } else {
        const auto* s = std::get_if<std::string>(&leaf.value);
        ASSERT_NE(s, nullptr);
        EXPECT_EQ("'" + *s + "'", repr);
        EXPECT_TRUE(s->starts_with(kMsgpackPlaceholderPrefix));
      }
      continue;
    }
    ++arrays;
    const auto* a = std::get_if<Array>(&leaf.value);
    ASSERT_NE(a, nullptr) << "expected an array (ext 1)";
    EXPECT_EQ(DTypeOfTypestr(want.at("dtype")), a->dtype());
    EXPECT_EQ(want.at("shape").get<Shape>(), a->shape());
    EXPECT_EQ(want.at("sha256_c_order_le").get<std::string>(), Sha256Hex(a->bytes()));
    const std::vector<double> values = AsDoubles(*a);
    if (want.contains("values")) {
      EXPECT_EQ(want.at("values").get<std::vector<double>>(), values);
    }
    if (want.contains("sum") && !values.empty()) {
      double sum = 0;
      for (double v : values) sum += v;
      EXPECT_NEAR(sum, want.at("sum").get<double>(), 1e-6 * (1 + std::abs(sum)) + 1e-4);
      EXPECT_EQ(*std::min_element(values.begin(), values.end()), want.at("min").get<double>());
      EXPECT_EQ(*std::max_element(values.begin(), values.end()), want.at("max").get<double>());
    }
  }
  EXPECT_EQ(arrays, c.array_leaves);
  EXPECT_EQ(others, c.other_leaves);
  EXPECT_EQ(empties, c.empty_leaves);
  EXPECT_EQ(arrays + others, summary.size());
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, MsgpackFixtureTest,
    ::testing::Values(
        FixtureCase{"google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_all.checkpoint/"
                    "checkpoint",
                    4, 0, 0},
        FixtureCase{"google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_some.checkpoint/"
                    "checkpoint",
                    2, 2, 0},
        FixtureCase{"google-research__t5x/t5x/testdata/tiny_orbax/1/checkpoint", 0, 7, 1},
        FixtureCase{"J4nn1K__transformer-mpc/checkpoints/map/checkpoint_0", 114, 0, 1}));

constexpr char kAggregateAll[] =
    "orbax/google__orbax/checkpoint/orbax/checkpoint/testing/aggregate_all.checkpoint/checkpoint";

TEST(MsgpackCheckpointTest, AggregateAllHasOrbaxTestValuesInFileOrder) {
  auto path = testing::FixturePath(kAggregateAll);
  if (!path) GTEST_SKIP() << "fixture absent";
  ASSERT_OK_AND_ASSIGN(auto leaves, Decode(testing::ReadFileOrDie(*path)));
  ASSERT_EQ(leaves.size(), 4u);
  std::vector<std::string> names;
  for (const auto& l : leaves) names.push_back(JoinMsgpackPath(l.path, "."));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c.a", "c.e"}));
  const Array& b = std::get<Array>(leaves[1].value);
  ASSERT_EQ(b.dtype(), DType::kInt64);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(b.values<std::int64_t>()[i], 2 * i);
}

TEST(MsgpackCheckpointTest, FlaxCheckpointScalarsAre0dArrays) {
  auto path = testing::FixturePath("orbax/J4nn1K__transformer-mpc/checkpoints/map/checkpoint_0");
  if (!path) GTEST_SKIP() << "fixture absent";
  ASSERT_OK_AND_ASSIGN(auto leaves, Decode(testing::ReadFileOrDie(*path)));
  bool found = false;
  for (const auto& l : leaves) {
    if (JoinMsgpackPath(l.path, "/") == "step") {
      const Array& step = std::get<Array>(l.value);
      EXPECT_EQ(step.rank(), 0);
      EXPECT_EQ(step.values<std::int32_t>()[0], 2280);
      found = true;
    }
    if (JoinMsgpackPath(l.path, "/") == "opt_state/1") {
      EXPECT_EQ(std::get<MsgpackEmptyContainer>(l.value).kind, MsgpackEmptyContainer::Kind::kMap);
    }
  }
  EXPECT_TRUE(found);
}

// --- Hand-built files.

using Packer = msgpack::packer<msgpack::sbuffer>;

std::string Str(const msgpack::sbuffer& b) { return std::string(b.data(), b.size()); }

void PackStr(Packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void PackExt(Packer& p, std::int8_t type, const std::string& payload) {
  p.pack_ext(payload.size(), type);
  p.pack_ext_body(payload.data(), static_cast<std::uint32_t>(payload.size()));
}

// The msgpack [shape, dtype name, bytes] of Flax's _ndarray_to_bytes.
std::string NdarrayPayload(const std::vector<std::uint64_t>& shape, std::string_view dtype,
                           const std::string& data) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_array(3);
  p.pack_array(static_cast<std::uint32_t>(shape.size()));
  for (std::uint64_t d : shape) p.pack_uint64(d);
  PackStr(p, dtype);
  p.pack_bin(static_cast<std::uint32_t>(data.size()));
  p.pack_bin_body(data.data(), static_cast<std::uint32_t>(data.size()));
  return Str(b);
}

template <typename T>
std::string RawBytes(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

// {"x": <ext type with payload>}
std::string OneExt(std::int8_t type, const std::string& payload) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_map(1);
  PackStr(p, "x");
  PackExt(p, type, payload);
  return Str(b);
}

TEST(MsgpackCheckpointTest, DecodesEveryLeafKind) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_map(16);
  PackStr(p, "arr");
  PackExt(p, 1, NdarrayPayload({2, 2}, "float32", RawBytes<float>({1, 2, 3, 4})));
  PackStr(p, "npscalar");
  PackExt(p, 3, NdarrayPayload({}, "int16", RawBytes<std::int16_t>({-7})));
  PackStr(p, "complex");
  {
    msgpack::sbuffer c;
    Packer cp(c);
    cp.pack_array(2);
    cp.pack_double(1.5);
    cp.pack_double(-2);
    PackExt(p, 2, Str(c));
  }
  PackStr(p, "int");
  p.pack_int64(-5);
  PackStr(p, "big");
  p.pack_uint64(std::numeric_limits<std::uint64_t>::max());
  PackStr(p, "f32");
  p.pack_float(0.5f);
  PackStr(p, "f64");
  p.pack_double(0.25);
  PackStr(p, "bool");
  p.pack_true();
  PackStr(p, "none");
  p.pack_nil();
  PackStr(p, "ph");
  PackStr(p, "PLACEHOLDER://ph");
  PackStr(p, "emptymap");
  p.pack_map(0);
  PackStr(p, "emptylist");
  p.pack_array(0);
  PackStr(p, "list");
  p.pack_array(2);
  p.pack_int64(10);
  p.pack_map(1);
  p.pack_int64(7);  // an int key
  p.pack_int64(11);
  PackStr(p, "tuple");
  {
    msgpack::sbuffer t;
    Packer tp(t);
    tp.pack_array(2);
    PackStr(tp, "s");
    PackExt(tp, 1, NdarrayPayload({1}, "bfloat16", RawBytes<std::uint16_t>({0x3f80})));
    PackExt(p, 4, Str(t));
  }
  PackStr(p, "emptytuple");
  {
    msgpack::sbuffer t;
    Packer tp(t);
    tp.pack_array(0);
    PackExt(p, 4, Str(t));
  }
  PackStr(p, "boolarr");
  PackExt(p, 1, NdarrayPayload({0, 3}, "bool", ""));

  ASSERT_OK_AND_ASSIGN(auto leaves, Decode(Str(b)));
  std::map<std::string, const MsgpackLeaf*> by;
  std::vector<std::string> order;
  for (const auto& l : leaves) {
    order.push_back(JoinMsgpackPath(l.path, "."));
    by[order.back()] = &l;
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"arr", "npscalar", "complex", "int", "big", "f32", "f64",
                                      "bool", "none", "ph", "emptymap", "emptylist", "list.0",
                                      "list.1.7", "tuple.0", "tuple.1", "emptytuple", "boolarr"}));
  const Array& arr = std::get<Array>(by["arr"]->value);
  EXPECT_EQ(arr.shape(), (Shape{2, 2}));
  EXPECT_EQ(arr.values<float>()[3], 4.0f);
  EXPECT_EQ(std::get<Scalar>(by["npscalar"]->value).dtype(), DType::kInt16);
  EXPECT_EQ(std::get<Scalar>(by["npscalar"]->value).As<std::int16_t>(), -7);
  EXPECT_EQ(std::get<Scalar>(by["complex"]->value).As<std::complex<double>>(),
            std::complex<double>(1.5, -2));
  EXPECT_EQ(std::get<Scalar>(by["int"]->value).dtype(), DType::kInt64);
  EXPECT_EQ(std::get<Scalar>(by["int"]->value).As<std::int64_t>(), -5);
  EXPECT_EQ(std::get<Scalar>(by["big"]->value).dtype(), DType::kUint64);
  EXPECT_EQ(std::get<Scalar>(by["f32"]->value).dtype(), DType::kFloat64);
  EXPECT_EQ(std::get<Scalar>(by["f64"]->value).As<double>(), 0.25);
  EXPECT_EQ(std::get<Scalar>(by["bool"]->value).dtype(), DType::kBool);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(by["none"]->value));
  EXPECT_EQ(std::get<std::string>(by["ph"]->value), "PLACEHOLDER://ph");
  using Kind = MsgpackEmptyContainer::Kind;
  EXPECT_EQ(std::get<MsgpackEmptyContainer>(by["emptymap"]->value).kind, Kind::kMap);
  EXPECT_EQ(std::get<MsgpackEmptyContainer>(by["emptylist"]->value).kind, Kind::kArray);
  EXPECT_EQ(std::get<MsgpackEmptyContainer>(by["emptytuple"]->value).kind, Kind::kTuple);
  EXPECT_EQ(by["list.1.7"]->path[1].type, KeyType::kSequence);
  EXPECT_EQ(by["list.1.7"]->path[2].type, KeyType::kDict);
  EXPECT_EQ(by["tuple.1"]->path[1].type, KeyType::kSequence);
  EXPECT_EQ(std::get<Array>(by["tuple.1"]->value).dtype(), DType::kBfloat16);
  EXPECT_EQ(std::get<Array>(by["boolarr"]->value).shape(), (Shape{0, 3}));
}

// {"w": {"__msgpack_chunked_array__": true, "shape": {...}, "chunks": {...}}}
std::string Chunked(const std::vector<std::uint64_t>& shape,
                    const std::vector<std::vector<float>>& chunks, bool in_list = false) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_map(1);
  PackStr(p, "w");
  if (in_list) p.pack_array(1);
  p.pack_map(3);
  PackStr(p, "__msgpack_chunked_array__");
  p.pack_true();
  PackStr(p, "shape");
  p.pack_map(static_cast<std::uint32_t>(shape.size()));
  for (std::size_t i = 0; i < shape.size(); ++i) {
    PackStr(p, std::to_string(i));
    p.pack_uint64(shape[i]);
  }
  PackStr(p, "chunks");
  p.pack_map(static_cast<std::uint32_t>(chunks.size()));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    PackStr(p, std::to_string(i));
    std::string raw(chunks[i].size() * 4, '\0');
    std::memcpy(raw.data(), chunks[i].data(), raw.size());
    PackExt(p, 1, NdarrayPayload({chunks[i].size()}, "float32", raw));
  }
  return Str(b);
}

TEST(MsgpackCheckpointTest, ReassemblesFlaxChunkedArrays) {
  ASSERT_OK_AND_ASSIGN(auto leaves, Decode(Chunked({2, 3}, {{1, 2, 3, 4}, {5, 6}})));
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(JoinMsgpackPath(leaves[0].path, "."), "w");
  const Array& a = std::get<Array>(leaves[0].value);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(std::vector<float>(a.values<float>().begin(), a.values<float>().end()),
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // 0-d from an empty shape map.
  ASSERT_OK_AND_ASSIGN(auto scalar, Decode(Chunked({}, {{9}})));
  ASSERT_EQ(scalar.size(), 1u);
  EXPECT_EQ(std::get<Array>(scalar[0].value).rank(), 0);
  // Flax does not look inside lists.
  ASSERT_OK_AND_ASSIGN(auto listed, Decode(Chunked({2}, {{1, 2}}, /*in_list=*/true)));
  EXPECT_EQ(listed.size(), 3u);
  // Chunks that disagree with the shape.
  EXPECT_ERROR_CODE(Decode(Chunked({2, 3}, {{1, 2, 3, 4}})), ErrorCode::kDataLoss);
}

TEST(MsgpackCheckpointTest, RejectsBadArrayPayloads) {
  // Bytes disagree with the shape.
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload({2, 3}, "float32", std::string(20, 'x')))),
                    ErrorCode::kDataLoss);
  // A huge shape (element count overflows) and a merely large one.
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload({1ull << 62, 1ull << 62}, "float32", ""))),
                    ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload({1ull << 40}, "int8", "abc"))),
                    ErrorCode::kDataLoss);
  // Unknown dtypes.
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload({1}, "object", "12345678"))),
                    ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload({1}, "", ""))), ErrorCode::kDataLoss);
  // Payloads that are not the triple.
  EXPECT_ERROR_CODE(Decode(OneExt(1, "")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(1, "\xc1")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(1, "\x93\x90\xa4int8")), ErrorCode::kDataLoss);  // truncated
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload({1}, "int8", "a") + "x")),
                    ErrorCode::kDataLoss);  // trailing
  EXPECT_ERROR_CODE(Decode(OneExt(3, "\x92\x90\xa4int8")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(2, "\x91\x01")), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(4,
                                  "\x81\xa1"
                                  "a\x01")),
                    ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(OneExt(4, "\x92\x01")), ErrorCode::kDataLoss);
  // Unknown ext type.
  EXPECT_ERROR_CODE(Decode(OneExt(7, "abc")), ErrorCode::kDataLoss);
  // A shape of more than 64 dimensions.
  std::vector<std::uint64_t> rank65(65, 1);
  EXPECT_ERROR_CODE(Decode(OneExt(1, NdarrayPayload(rank65, "int8", "a"))), ErrorCode::kDataLoss);
}

TEST(MsgpackCheckpointTest, RejectsNonMsgpackAndStructuralProblems) {
  EXPECT_ERROR_CODE(Decode(""), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode("\xc1"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode("hello, world"), ErrorCode::kDataLoss);  // 'h' then trailing bytes
  EXPECT_ERROR_CODE(Decode("{\"a\": 1}"), ErrorCode::kDataLoss);
  // A map claiming 2^32-1 entries in a 5-byte file: no allocation, just truncated.
  EXPECT_ERROR_CODE(Decode(std::string("\xdf\xff\xff\xff\xff", 5)), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(std::string("\xdd\xff\xff\xff\xff", 5)), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode(std::string("\xc6\xff\xff\xff\xff", 5)), ErrorCode::kDataLoss);
  // Duplicate keys, also after turning an int key into text.
  EXPECT_ERROR_CODE(Decode("\x82\xa1"
                           "a\x01\xa1"
                           "a\x02"),
                    ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode("\x82\x01\x01\xa1"
                           "1\x02"),
                    ErrorCode::kDataLoss);
  // Keys that are not strings or integers.
  EXPECT_ERROR_CODE(Decode("\x81\xc0\x01"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode("\x81\x80\x01"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode("\x81\x90\x01"), ErrorCode::kDataLoss);
  EXPECT_ERROR_CODE(Decode("\x81\xd4\x01\x00\x01"), ErrorCode::kDataLoss);
  // A binary leaf.
  EXPECT_ERROR_CODE(Decode("\x81\xa1"
                           "a\xc4\x01z"),
                    ErrorCode::kUnsupported);
  // A bare value at the root is one leaf with an empty path.
  ASSERT_OK_AND_ASSIGN(auto root, Decode("\x05"));
  ASSERT_EQ(root.size(), 1u);
  EXPECT_TRUE(root[0].path.empty());
}

std::string Nested(std::size_t depth, char container) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += container == 'm' ? "\x81\xa1k" : "\x91";
  return s + '\x01';
}

TEST(MsgpackCheckpointTest, BoundsNestingDepth) {
  EXPECT_ERROR_CODE(Decode(Nested(100000, 'm')), ErrorCode::kResourceExhausted);
  EXPECT_ERROR_CODE(Decode(Nested(100000, 'a')), ErrorCode::kResourceExhausted);
  EXPECT_ERROR_CODE(Decode(Nested(kMaxMsgpackDepth + 1, 'm')), ErrorCode::kResourceExhausted);
  ASSERT_OK_AND_ASSIGN(auto deep, Decode(Nested(kMaxMsgpackDepth, 'm')));
  ASSERT_EQ(deep.size(), 1u);
  EXPECT_EQ(deep[0].path.size(), kMaxMsgpackDepth);
  // Nested tuples count towards the same limit.
  std::string tuple = "\x01";
  for (int i = 0; i < 2000; ++i) {
    msgpack::sbuffer b;
    Packer p(b);
    PackExt(p, 4, "\x91" + tuple);  // a 1-tuple holding the previous value
    tuple = Str(b);
  }
  EXPECT_ERROR_CODE(Decode(tuple), ErrorCode::kResourceExhausted);
  tuple = "\x01";
  for (std::size_t i = 0; i < kMaxMsgpackTupleDepth; ++i) {
    msgpack::sbuffer b;
    Packer p(b);
    PackExt(p, 4, "\x91" + tuple);
    tuple = Str(b);
  }
  ASSERT_OK_AND_ASSIGN(auto tuples, Decode(tuple));
  ASSERT_EQ(tuples.size(), 1u);
  EXPECT_EQ(tuples[0].path.size(), kMaxMsgpackTupleDepth);
}

TEST(MsgpackCheckpointTest, EnforcesTheMemoryLimit) {
  const std::string big = OneExt(1, NdarrayPayload({4096}, "uint8", std::string(4096, 'z')));
  EXPECT_OK(Decode(big, 1 << 20));
  EXPECT_ERROR_CODE(Decode(big, 1000), ErrorCode::kResourceExhausted);
  // Few input bytes, many long paths: 900 nested maps, then 50000 one-byte
  // leaves, each with a 900-key path.
  std::string s;
  for (int i = 0; i < 900; ++i) s += "\x81\xa1k";
  s += "\xde\xc3\x50";  // map16 of 50000 entries
  for (int i = 0; i < 50000; ++i) {
    msgpack::sbuffer b;
    Packer p(b);
    p.pack_uint32(static_cast<std::uint32_t>(i));
    p.pack_nil();
    s += Str(b);
  }
  EXPECT_ERROR_CODE(Decode(s, 64 << 20), ErrorCode::kResourceExhausted);
}

TEST(MsgpackCheckpointTest, EveryTruncationIsDataLoss) {
  auto path = testing::FixturePath(kAggregateAll);
  if (!path) GTEST_SKIP() << "fixture absent";
  const std::string bytes = testing::ReadFileOrDie(*path);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_ERROR_CODE(Decode(bytes.substr(0, n)), ErrorCode::kDataLoss);
  }
}

TEST(MsgpackCheckpointTest, ByteFlipsGiveTypedErrorsOrValues) {
  auto path = testing::FixturePath(kAggregateAll);
  if (!path) GTEST_SKIP() << "fixture absent";
  const std::string bytes = testing::ReadFileOrDie(*path);
  std::mt19937 rng(1234);
  int failures = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::array<unsigned char, 4> masks = {0x01, 0x80, 0xff,
                                                static_cast<unsigned char>(rng() | 1)};
    for (unsigned char mask : masks) {
      std::string copy = bytes;
      copy[i] = static_cast<char>(copy[i] ^ mask);
      auto r = Decode(copy);
      if (r) continue;
      ++failures;
      const ErrorCode code = r.error().code();
      EXPECT_TRUE(code == ErrorCode::kDataLoss || code == ErrorCode::kResourceExhausted ||
                  code == ErrorCode::kUnsupported)
          << i << ": " << r.error().ToString();
    }
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace stowage::tree
