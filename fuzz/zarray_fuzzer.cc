// Fuzzes the `.zarray` parser (zarr::ParseZarray) and everything a restore
// derives from a parsed `.zarray`: the fill value and the chunk codec (whose
// "compressor" object is hostile input too). Invariants: a parsed `.zarray`
// re-encodes to text that parses back to the same encoding, and a chunk the
// codec encodes decodes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "zarr/chunk_codec.h"
#include "zarr/fill_value.h"
#include "zarr/zarray.h"

namespace {

using namespace stowage;  // NOLINT

constexpr zarr::Limits kLimits{.max_bytes = std::uint64_t{1} << 30, .max_chunks = 1 << 20};
// Chunks at most this large go through an encode/decode round trip.
constexpr std::size_t kMaxRoundTripBytes = 1 << 16;

void CheckReencodes(const zarr::ZarrayMetadata& metadata) {
  std::string encoded = zarr::EncodeZarray(metadata);
  auto again = zarr::ParseZarray(AsBytes(encoded), "re-encoded .zarray", kLimits);
  fuzz::Check(again.has_value(), "a parsed .zarray re-encodes to one that parses");
  fuzz::Check(zarr::EncodeZarray(*again) == encoded, "a .zarray re-encodes to the same text");
  fuzz::Check(again->shape == metadata.shape && again->chunks == metadata.chunks,
              "a .zarray keeps its shape and chunks");
}

void CheckChunkRoundTrip(const zarr::ZarrayMetadata& metadata) {
  auto codec = zarr::ChunkCodec::Make(metadata, ".zarray");
  if (!codec || codec->chunk_bytes() > kMaxRoundTripBytes) return;
  Bytes chunk(codec->chunk_bytes());
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = std::byte(i * 7 % 251);
  auto stored = codec->Encode(chunk);
  if (!stored) return;  // e.g. a compressor refusing its parameters
  Bytes decoded(codec->chunk_bytes());
  auto status = codec->DecodeInto(*stored, decoded, "chunk 0");
  fuzz::Check(status.has_value(), "an encoded chunk decodes");
  fuzz::Check(decoded == chunk, "an encoded chunk decodes to the same bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto metadata = zarr::ParseZarray(std::as_bytes(std::span(data, size)), ".zarray", kLimits);
  if (!metadata) return 0;
  CheckReencodes(*metadata);
  auto fill = zarr::FillValueBytes(metadata->fill_value, metadata->dtype.dtype, ".zarray");
  if (fill) fuzz::Check(fill->size() == ItemSize(metadata->dtype.dtype), "fill is one element");
  CheckChunkRoundTrip(*metadata);
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  auto add = [&](std::string name, std::string_view text) {
    seeds.push_back(fuzz::TextSeed(std::move(name), text));
  };
  // What stowage (and TensorStore) write.
  zarr::ZarrayMetadata m{
      {16, 8}, {8, 8}, {DType::kFloat32, false}, {{"id", "zstd"}, {"level", 1}}, nullptr, 'C', '.'};
  add("stowage_zstd_f4", zarr::EncodeZarray(m));
  m.dtype = {DType::kBfloat16, false};
  m.compressor = nullptr;
  m.fill_value = "NaN";
  add("stowage_raw_bf16_nan", zarr::EncodeZarray(m));
  m = {{5}, {5}, {DType::kComplex64, false}, {{"id", "gzip"}, {"level", 1}}, {1.5, -2}, 'C', '/'};
  add("stowage_gzip_c8_slash", zarr::EncodeZarray(m));
  m = {{}, {}, {DType::kInt64, false}, {{"id", "zstd"}, {"level", 1}}, 7, 'C', '.'};
  add("stowage_scalar_i8", zarr::EncodeZarray(m));
  m = {{0, 3}, {1, 3}, {DType::kUint8, false}, nullptr, nullptr, 'C', '.'};
  add("stowage_zero_length", zarr::EncodeZarray(m));
  // What zarr-python writes: filters, big-endian dtypes, Fortran order.
  add("zarr_python_blosc",
      R"({"chunks":[10,10],"compressor":{"blocksize":0,"clevel":5,"cname":"lz4","id":"blosc",)"
      R"("shuffle":1},"dtype":">f8","fill_value":"-Infinity","filters":null,"order":"F",)"
      R"("shape":[20,30],"zarr_format":2})");
  add("zarr_python_lz4_bool",
      R"({"chunks":[100],"compressor":{"acceleration":1,"id":"lz4"},"dtype":"|b1",)"
      R"("fill_value":false,"filters":[],"order":"C","shape":[1000],"zarr_format":2})");
  add("zarr_python_zlib_u2",
      R"({"chunks":[3,3,3],"compressor":{"id":"zlib","level":9},"dtype":"<u2",)"
      R"("fill_value":65535,"filters":null,"order":"C","shape":[4,5,6],"zarr_format":2,)"
      R"("dimension_separator":"/"})");
  add("float8", R"({"chunks":[4],"compressor":{"id":"blosc","cname":"zstd","shuffle":2},)"
                R"("dtype":"float8_e4m3fn","fill_value":"Infinity","shape":[9],"zarr_format":2})");
  return seeds;
}
