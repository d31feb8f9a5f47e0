// The .npy preamble and header dict: parsing (tolerant of the Python literal
// syntax NumPy writes, nothing more) and encoding (exactly as NumPy 1.24).
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "npy/npy.h"

namespace stowage::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kAlign = 64;
// NumPy pads the header with room for the first dimension to grow to this
// many digits, so appending along it can rewrite the header in place.
constexpr std::size_t kGrowthDigits = 21;
constexpr int kMaxNesting = 16;

// Unlike strchr, false for '\0'.
bool OneOf(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

// A Python literal as it can appear in a header: str, bool, int, tuple, list.
struct Literal {
  enum class Kind { kString, kBool, kInt, kTuple, kList } kind = Kind::kInt;
  std::string string;
  bool boolean = false;
  std::int64_t integer = 0;
  std::vector<Literal> items;
  std::string_view source;  // the literal's text, for messages
};

// A recursive-descent parser for the header dict. Errors are kDataLoss with
// messages naming the offset; the caller prefixes the path.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  // Parses `{key: value, ...}` followed only by whitespace.
  Result<std::vector<std::pair<std::string, Literal>>> ParseDict() {
    std::vector<std::pair<std::string, Literal>> entries;
    SkipSpace();
    if (!Consume('{')) return Fail("expected '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      STOWAGE_ASSIGN_OR_RETURN(Literal key, ParseValue(0));
      if (key.kind != Literal::Kind::kString) return Fail("dict key is not a string");
      SkipSpace();
      if (!Consume(':')) return Fail("expected ':'");
      STOWAGE_ASSIGN_OR_RETURN(Literal value, ParseValue(0));
      entries.emplace_back(std::move(key.string), std::move(value));
      SkipSpace();
      if (Consume('}')) break;
      if (!Consume(',')) return Fail("expected ',' or '}'");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Fail("unexpected text after the dict");
    return entries;
  }

 private:
  Error Fail(std::string_view what) const {
    return DataLossError("malformed header: " + std::string(what) + " at header offset " +
                         std::to_string(pos_));
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (!AtEnd() && OneOf(text_[pos_], " \t\n\r\f")) ++pos_;
  }

  Result<Literal> ParseValue(int depth) {
    if (depth > kMaxNesting) return Fail("nesting too deep");
    SkipSpace();
    std::size_t start = pos_;
    Result<Literal> value = ParseBareValue(depth);
    if (value.has_value()) value->source = text_.substr(start, pos_ - start);
    return value;
  }

  Result<Literal> ParseBareValue(int depth) {
    char c = Peek();
    if (c == '\'' || c == '"') return ParseString();
    if (c == '(' || c == '[') return ParseSequence(depth);
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return ParseInt();
    for (bool b : {true, false}) {
      std::string_view word = b ? "True" : "False";
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        Literal literal;
        literal.kind = Literal::Kind::kBool;
        literal.boolean = b;
        return literal;
      }
    }
    return Fail("expected a string, number, True, False, tuple or list");
  }

  Result<Literal> ParseString() {
    char quote = text_[pos_++];
    Literal literal;
    literal.kind = Literal::Kind::kString;
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      char c = text_[pos_++];
      if (c == quote) return literal;
      if (c == '\n') return Fail("newline in string");
      if (c == '\\') {
        if (AtEnd() || !OneOf(Peek(), "\\'\"")) return Fail("unsupported escape");
        c = text_[pos_++];
      }
      literal.string += c;
    }
  }

  Result<Literal> ParseInt() {
    bool negative = Peek() == '-';
    if (Peek() == '-' || Peek() == '+') ++pos_;
    if (!(Peek() >= '0' && Peek() <= '9')) return Fail("expected a digit");
    std::int64_t value = 0;
    while (Peek() >= '0' && Peek() <= '9') {
      int digit = text_[pos_++] - '0';
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, negative ? -digit : digit, &value)) {
        return Fail("integer out of range");
      }
    }
    if (Peek() == 'L' || Peek() == 'l') ++pos_;  // Python 2 long, as old files have
    Literal literal;
    literal.kind = Literal::Kind::kInt;
    literal.integer = value;
    return literal;
  }

  // A tuple `(a, b)`, `(a,)`, `()`, a parenthesized value `(a)`, or a list.
  Result<Literal> ParseSequence(int depth) {
    char close = text_[pos_++] == '(' ? ')' : ']';
    Literal literal;
    literal.kind = close == ')' ? Literal::Kind::kTuple : Literal::Kind::kList;
    bool trailing_comma = false;
    while (true) {
      SkipSpace();
      if (Consume(close)) break;
      STOWAGE_ASSIGN_OR_RETURN(Literal item, ParseValue(depth + 1));
      literal.items.push_back(std::move(item));
      SkipSpace();
      trailing_comma = Consume(',');
      if (!trailing_comma) {
        if (Consume(close)) break;
        return Fail(close == ')' ? "expected ',' or ')'" : "expected ',' or ']'");
      }
    }
    if (close == ')' && literal.items.size() == 1 && !trailing_comma) {
      return std::move(literal.items[0]);  // (a) is a, not a tuple
    }
    return literal;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

struct DescrName {
  std::string_view code;  // after the byte-order character
  DType dtype;
};
constexpr DescrName kCodes[] = {
    {"b1", DType::kBool},    {"?", DType::kBool},       {"i1", DType::kInt8},
    {"i2", DType::kInt16},   {"i4", DType::kInt32},     {"i8", DType::kInt64},
    {"u1", DType::kUint8},   {"u2", DType::kUint16},    {"u4", DType::kUint32},
    {"u8", DType::kUint64},  {"f2", DType::kFloat16},   {"f4", DType::kFloat32},
    {"f8", DType::kFloat64}, {"c8", DType::kComplex64}, {"c16", DType::kComplex128},
};
// ml_dtypes' names, written without a byte order as np.dtype(name) accepts.
constexpr DescrName kMlDtypesNames[] = {
    {"bfloat16", DType::kBfloat16},
    {"float8_e4m3fn", DType::kFloat8E4m3fn},
    {"float8_e5m2", DType::kFloat8E5m2},
};

std::string ShapeRepr(const Shape& shape) {
  if (shape.size() == 1) return "(" + std::to_string(shape[0]) + ",)";
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + ")";
}

void AppendLittleEndian(Bytes& out, std::uint64_t value, int size) {
  for (int i = 0; i < size; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

std::uint64_t LoadLittleEndian(std::span<const std::byte> bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) value = value << 8 | std::to_integer<int>(bytes[i]);
  return value;
}

}  // namespace

std::string DescrOf(DType dtype) {
  for (const auto& name : kMlDtypesNames) {
    if (name.dtype == dtype) return std::string(name.code);
  }
  for (const auto& code : kCodes) {
    if (code.dtype == dtype && code.code != "?") {
      return (ItemSize(dtype) == 1 ? "|" : "<") + std::string(code.code);
    }
  }
  return "";  // unreachable: every DType is in a table
}

Result<NpyDescr> ParseNpyDescr(std::string_view descr, std::string_view path_for_errors) {
  std::string path(path_for_errors);
  for (const auto& name : kMlDtypesNames) {
    if (name.code == descr) return NpyDescr{name.dtype, false};
  }
  char order = '=';
  std::string_view code = descr;
  if (!code.empty() && OneOf(code[0], "<>|=")) {
    order = code[0];
    code.remove_prefix(1);
  }
  for (const auto& entry : kCodes) {
    if (entry.code == code) {
      return NpyDescr{entry.dtype, order == '>' && ItemSize(entry.dtype) > 1};
    }
  }
  if (!code.empty() && code[0] == 'V') {
    return UnsupportedError(
        path + ": dtype descr " + Quote(descr) +
        " is raw void bytes (NumPy writes this for bfloat16/float8 arrays of ml_dtypes); "
        "re-save it in NumPy as a standard dtype, e.g. arr.astype(np.float32), and pass "
        "--dtype bfloat16 (or float8_e4m3fn, float8_e5m2) to store it in that type");
  }
  return UnsupportedError(path + ": unsupported dtype descr " + Quote(descr) +
                          " (supported: bool, [u]int8-64, float16/32/64, complex64/128, "
                          "bfloat16, float8_e4m3fn, float8_e5m2)");
}

Result<std::size_t> NpyDataOffset(std::span<const std::byte> prefix,
                                  std::string_view path_for_errors) {
  std::string path(path_for_errors);
  std::string_view text = AsStringView(prefix);
  if (text.substr(0, kMagicSize) != std::string_view(kMagic, kMagicSize)) {
    if (text.size() < kMagicSize && text == std::string_view(kMagic, text.size())) {
      return DataLossError(path + ": truncated .npy file (" + std::to_string(text.size()) +
                           " bytes)");
    }
    return DataLossError(path + ": not a .npy file (no \\x93NUMPY magic)");
  }
  if (prefix.size() < kMagicSize + 2) {
    return DataLossError(path + ": truncated .npy file (no format version)");
  }
  int major = std::to_integer<int>(prefix[6]);
  int minor = std::to_integer<int>(prefix[7]);
  if (minor != 0 || major < 1 || major > 3) {
    return UnsupportedError(path + ": .npy format version " + std::to_string(major) + "." +
                            std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  std::size_t length_size = major == 1 ? 2 : 4;
  std::size_t preamble = kMagicSize + 2 + length_size;
  if (prefix.size() < preamble) {
    return DataLossError(path + ": truncated .npy file (no header length)");
  }
  return preamble + LoadLittleEndian(prefix.subspan(kMagicSize + 2, length_size));
}

Result<NpyHeader> ParseNpyHeader(std::span<const std::byte> prefix,
                                 std::string_view path_for_errors) {
  std::string path(path_for_errors);
  STOWAGE_ASSIGN_OR_RETURN(std::size_t data_offset, NpyDataOffset(prefix, path));
  if (prefix.size() < data_offset) {
    return DataLossError(path + ": truncated .npy header (" + std::to_string(data_offset) +
                         " bytes announced, " + std::to_string(prefix.size()) + " present)");
  }
  std::size_t preamble = prefix[6] == std::byte{1} ? 10 : 12;
  std::string_view text = AsStringView(prefix.subspan(preamble, data_offset - preamble));
  auto entries = HeaderParser(text).ParseDict();
  if (!entries.has_value()) return entries.error().WithContext(path);

  const Literal* descr = nullptr;
  const Literal* fortran_order = nullptr;
  const Literal* shape = nullptr;
  for (const auto& [key, value] : *entries) {
    const Literal** slot = key == "descr"           ? &descr
                           : key == "fortran_order" ? &fortran_order
                           : key == "shape"         ? &shape
                                                    : nullptr;
    if (slot == nullptr) return DataLossError(path + ": unexpected .npy header key " + Quote(key));
    if (*slot != nullptr) return DataLossError(path + ": duplicate .npy header key " + Quote(key));
    *slot = &value;
  }
  if (descr == nullptr || fortran_order == nullptr || shape == nullptr) {
    return DataLossError(path + ": .npy header lacks " +
                         (descr == nullptr           ? "'descr'"
                          : fortran_order == nullptr ? "'fortran_order'"
                                                     : "'shape'"));
  }

  NpyHeader header;
  header.data_offset = data_offset;
  if (descr->kind == Literal::Kind::kList) {
    return UnsupportedError(path + ": structured dtype descr " + std::string(descr->source) +
                            " (only plain numeric dtypes are supported)");
  }
  if (descr->kind != Literal::Kind::kString) {
    return DataLossError(path + ": .npy header 'descr' is " + std::string(descr->source) +
                         ", not a string or list");
  }
  STOWAGE_ASSIGN_OR_RETURN(NpyDescr parsed, ParseNpyDescr(descr->string, path));
  header.dtype = parsed.dtype;
  header.big_endian = parsed.big_endian;

  if (fortran_order->kind != Literal::Kind::kBool) {
    return DataLossError(path + ": .npy header 'fortran_order' is " +
                         std::string(fortran_order->source) + ", not True or False");
  }
  header.fortran_order = fortran_order->boolean;

  if (shape->kind != Literal::Kind::kTuple) {
    return DataLossError(path + ": .npy header 'shape' is " + std::string(shape->source) +
                         ", not a tuple");
  }
  for (const Literal& dim : shape->items) {
    if (dim.kind != Literal::Kind::kInt || dim.integer < 0) {
      return DataLossError(path + ": .npy header 'shape' " + std::string(shape->source) +
                           " holds " + std::string(dim.source) + ", not a non-negative int");
    }
    header.shape.push_back(dim.integer);
  }
  if (auto bytes = NumBytes(header.shape, header.dtype); !bytes.has_value()) {
    return DataLossError(path + ": .npy header 'shape' " + std::string(shape->source) + " of " +
                         std::string(DTypeName(header.dtype)) + " overflows 64 bits");
  }
  return header;
}

Bytes EncodeNpyHeader(const ArrayView& array) {
  std::string dict = "{'descr': " + Quote(DescrOf(array.dtype())) +
                     ", 'fortran_order': False, 'shape': " + ShapeRepr(array.shape()) + ", }";
  if (array.rank() > 0) {
    std::size_t digits = std::to_string(array.shape()[0]).size();
    dict.append(kGrowthDigits > digits ? kGrowthDigits - digits : 0, ' ');
  }
  std::size_t text_size = dict.size() + 1;  // + '\n'
  std::size_t preamble = 10;
  std::size_t padding = kAlign - (preamble + text_size) % kAlign;
  if (text_size + padding > 0xFFFF) {  // version 1.0's length field cannot hold it
    preamble = 12;
    padding = kAlign - (preamble + text_size) % kAlign;
  }
  Bytes out(AsBytes(std::string_view(kMagic, kMagicSize)).begin(),
            AsBytes(std::string_view(kMagic, kMagicSize)).end());
  out.push_back(std::byte{preamble == 10 ? std::uint8_t{1} : std::uint8_t{2}});
  out.push_back(std::byte{0});
  AppendLittleEndian(out, text_size + padding, preamble == 10 ? 2 : 4);
  auto dict_bytes = AsBytes(dict);
  out.insert(out.end(), dict_bytes.begin(), dict_bytes.end());
  out.insert(out.end(), padding, std::byte{' '});
  out.push_back(std::byte{'\n'});
  return out;
}

}  // namespace stowage::npy
