// Fuzzes the `.npy` reader: the preamble (npy::NpyDataOffset), the header
// dict (npy::ParseNpyHeader) and the whole file (npy::DecodeNpy).
// Invariants: the header parser and the preamble agree on the data offset; a
// decoded array holds exactly shape x item size bytes; and writing it back
// as `.npy` gives a file that decodes to the same array.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "npy/npy.h"

namespace {

using namespace stowage;  // NOLINT

void CheckHeader(std::span<const std::byte> bytes) {
  auto header = npy::ParseNpyHeader(bytes, "x.npy");
  if (!header) return;
  fuzz::Check(header->data_offset <= bytes.size(), "the header lies inside the file");
  auto offset = npy::NpyDataOffset(bytes, "x.npy");
  fuzz::Check(offset.has_value() && *offset == header->data_offset,
              "the preamble and the header agree on the data offset");
}

void CheckArray(const Array& array) {
  auto bytes = NumBytes(array.shape(), array.dtype());
  fuzz::Check(bytes.has_value() && *bytes == array.num_bytes(), "an array is shape x item size");
  Bytes file = npy::EncodeNpyHeader(array.view());
  file.insert(file.end(), array.bytes().begin(), array.bytes().end());
  auto again = npy::DecodeNpy(file, "re-encoded.npy");
  fuzz::Check(again.has_value(), "a decoded array written as .npy decodes");
  fuzz::Check(again->dtype() == array.dtype() && again->shape() == array.shape(),
              "a re-encoded .npy keeps dtype and shape");
  fuzz::Check(std::equal(again->bytes().begin(), again->bytes().end(), array.bytes().begin(),
                         array.bytes().end()),
              "a re-encoded .npy keeps its data");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  CheckHeader(bytes);
  auto array = npy::DecodeNpy(bytes, "x.npy");
  if (array) CheckArray(*array);
  return 0;
}

namespace {

fuzz::Seed NpySeed(std::string name, DType dtype, Shape shape) {
  Bytes data = fuzz::SampleData(NumBytes(shape, dtype).value());
  auto view = ArrayView::Make(dtype, std::move(shape), data).value();
  Bytes file = npy::EncodeNpyHeader(view);
  file.insert(file.end(), data.begin(), data.end());
  return {std::move(name), std::move(file)};
}

// A NumPy 1.0 file with a hand-written header dict (padded to 64 bytes).
fuzz::Seed HandWritten(std::string name, std::string dict, std::size_t data_bytes) {
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string file = "\x93NUMPY\x01";
  file += '\0';
  file += static_cast<char>(dict.size() & 0xff);
  file += static_cast<char>(dict.size() >> 8);
  file += dict;
  Bytes bytes = ToBytes(file);
  Bytes data = fuzz::SampleData(data_bytes);
  bytes.insert(bytes.end(), data.begin(), data.end());
  return {std::move(name), std::move(bytes)};
}

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  seeds.push_back(NpySeed("f4_2d", DType::kFloat32, {3, 4}));
  seeds.push_back(NpySeed("bool_scalar", DType::kBool, {}));
  seeds.push_back(NpySeed("bf16", DType::kBfloat16, {5}));
  seeds.push_back(NpySeed("c16_empty", DType::kComplex128, {0, 2}));
  seeds.push_back(NpySeed("f8e5m2", DType::kFloat8E5m2, {2, 2, 2}));
  seeds.push_back(HandWritten("fortran_big_endian",
                              "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }", 24));
  seeds.push_back(
      HandWritten("u2_native", "{'descr': '=u2', 'fortran_order': False, 'shape': (4,), }", 8));
  return seeds;
}
