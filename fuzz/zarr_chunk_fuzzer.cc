// Fuzzes the zarr v2 chunk decoder (zarr::ChunkCodec::DecodeInto): the
// compressor, then Fortran order and byte order. Input: a byte choosing one
// of the `.zarray` configurations below, then the stored chunk. Invariants:
// a chunk that decodes fills exactly chunk_bytes(), and re-encoding it gives
// bytes that decode to the same chunk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "zarr/chunk_codec.h"

namespace {

using namespace stowage;  // NOLINT

// Each `.zarray` a chunk may be decoded against: every compressor, both
// orders, both byte orders, several ranks and element sizes.
constexpr std::string_view kConfigs[] = {
    R"({"zarr_format":2,"shape":[40],"chunks":[16],"dtype":"|u1","compressor":null})",
    R"({"zarr_format":2,"shape":[6,5],"chunks":[4,3],"dtype":">i4","order":"F","compressor":null})",
    R"({"zarr_format":2,"shape":[100],"chunks":[64],"dtype":"<f4","compressor":{"id":"zstd","level":1}})",
    R"({"zarr_format":2,"shape":[9,9],"chunks":[3,3],"dtype":">f8","order":"F","compressor":{"id":"zstd"}})",
    R"({"zarr_format":2,"shape":[100],"chunks":[50],"dtype":"<i2","compressor":{"id":"zlib","level":1}})",
    R"({"zarr_format":2,"shape":[100],"chunks":[50],"dtype":"<u8","compressor":{"id":"gzip","level":1}})",
    R"({"zarr_format":2,"shape":[4,4,4],"chunks":[2,2,3],"dtype":">u2","order":"F","compressor":{"id":"gzip"}})",
    R"({"zarr_format":2,"shape":[300],"chunks":[256],"dtype":"<f4","compressor":{"id":"blosc","cname":"lz4","clevel":5,"shuffle":1}})",
    R"({"zarr_format":2,"shape":[300],"chunks":[256],"dtype":"|b1","compressor":{"id":"blosc","cname":"zstd","clevel":1,"shuffle":2}})",
    R"({"zarr_format":2,"shape":[8,8],"chunks":[8,8],"dtype":">c8","order":"F","compressor":{"id":"blosc","cname":"zlib","shuffle":-1}})",
    R"({"zarr_format":2,"shape":[64],"chunks":[64],"dtype":"<i8","compressor":{"id":"lz4","acceleration":1}})",
    R"({"zarr_format":2,"shape":[7,3],"chunks":[5,2],"dtype":"bfloat16","order":"F","compressor":{"id":"lz4"}})",
    R"({"zarr_format":2,"shape":[],"chunks":[],"dtype":">f2","compressor":{"id":"zstd","level":3}})",
    R"({"zarr_format":2,"shape":[1000],"chunks":[1000],"dtype":"<c16","compressor":{"id":"blosc","cname":"blosclz","shuffle":0}})",
};
constexpr std::size_t kNumConfigs = sizeof(kConfigs) / sizeof(kConfigs[0]);

std::vector<zarr::ChunkCodec> MakeCodecs() {
  std::vector<zarr::ChunkCodec> codecs;
  for (std::string_view text : kConfigs) {
    auto metadata = zarr::ParseZarray(AsBytes(text), "config");
    fuzz::Check(metadata.has_value(), "every configuration parses");
    codecs.push_back(zarr::ChunkCodec::Make(*metadata, "config").value());
  }
  return codecs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<zarr::ChunkCodec> codecs = MakeCodecs();
  fuzz::FuzzInput input(data, size);
  const zarr::ChunkCodec& codec = codecs[input.Byte() % kNumConfigs];
  Bytes decoded(codec.chunk_bytes());
  if (!codec.DecodeInto(input.Rest(), decoded, "chunk").has_value()) return 0;
  auto stored = codec.Encode(decoded);
  fuzz::Check(stored.has_value(), "a decoded chunk encodes");
  Bytes again(codec.chunk_bytes());
  fuzz::Check(codec.DecodeInto(*stored, again, "chunk").has_value(), "an encoded chunk decodes");
  fuzz::Check(again == decoded, "an encoded chunk decodes to the same bytes");
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  std::vector<zarr::ChunkCodec> codecs = MakeCodecs();
  for (std::size_t i = 0; i < codecs.size(); ++i) {
    auto stored = codecs[i].Encode(fuzz::SampleData(codecs[i].chunk_bytes()));
    fuzz::Check(stored.has_value(), "every seed chunk encodes");
    seeds.push_back(
        fuzz::MakeSeed("config_" + std::to_string(i), {static_cast<std::uint8_t>(i)}, *stored));
  }
  return seeds;
}
