// Fuzzes the `.npz` reader (npy::DecodeNpz: libzip's archive reader, then
// each member as `.npy`) with a 4 MiB limit per member. Invariants: every
// array holds exactly shape x item size bytes, and no member exceeds the
// limit.
#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_input.h"
#include "npy/npy.h"
#include "npy/npz.h"

using namespace stowage;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::uint64_t kMaxMemberBytes = std::uint64_t{4} << 20;
  auto arrays = npy::DecodeNpz(std::as_bytes(std::span(data, size)), "x.npz", kMaxMemberBytes);
  if (!arrays) return 0;
  for (const auto& [name, array] : *arrays) {
    auto bytes = NumBytes(array.shape(), array.dtype());
    fuzz::Check(bytes.has_value() && *bytes == array.num_bytes(), "an array is shape x item");
    fuzz::Check(array.num_bytes() <= kMaxMemberBytes, "a member fits the limit");
  }
  return 0;
}

namespace {

// An archive as numpy.savez (stored) or numpy.savez_compressed (deflated)
// writes it, through libzip.
Bytes Archive(const std::vector<std::pair<std::string, Bytes>>& members, bool compressed) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_t* archive = zip_open_from_source(out, ZIP_TRUNCATE, &error);
  fuzz::Check(archive != nullptr, "libzip opens an in-memory archive");
  zip_source_keep(out);
  for (const auto& [name, bytes] : members) {
    zip_source_t* member = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    zip_int64_t index = zip_file_add(archive, name.c_str(), member, 0);
    zip_set_file_compression(archive, index, compressed ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  fuzz::Check(zip_close(archive) == 0, "libzip writes the archive");
  zip_source_open(out);
  zip_source_seek(out, 0, SEEK_END);
  Bytes result(static_cast<std::size_t>(zip_source_tell(out)));
  zip_source_seek(out, 0, SEEK_SET);
  zip_source_read(out, result.data(), result.size());
  zip_source_close(out);
  zip_source_free(out);
  zip_error_fini(&error);
  return result;
}

Bytes Npy(DType dtype, Shape shape) {
  Bytes data = fuzz::SampleData(NumBytes(shape, dtype).value());
  Bytes file = npy::EncodeNpyHeader(ArrayView::Make(dtype, std::move(shape), data).value());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<std::pair<std::string, Bytes>> members = {
      {"params.w.npy", Npy(DType::kFloat32, {4, 3})},
      {"step.npy", Npy(DType::kInt64, {})},
  };
  std::vector<fuzz::Seed> seeds;
  seeds.push_back({"stored", Archive(members, false)});
  seeds.push_back({"deflated", Archive(members, true)});
  Bytes empty(22);
  empty[0] = std::byte{'P'}, empty[1] = std::byte{'K'}, empty[2] = std::byte{5};
  empty[3] = std::byte{6};
  seeds.push_back({"empty", empty});
  return seeds;
}
