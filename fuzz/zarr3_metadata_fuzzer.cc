// Fuzzes the zarr v3 `zarr.json` parser (zarr::ParseZarrJson), including the
// codec chain and fill value it resolves. Invariants: a parsed `zarr.json`
// re-encodes to text that parses back to the same encoding, and a small
// chunk encoded through the parsed codec chain decodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "zarr/zarr3_codec.h"
#include "zarr/zarr3_metadata.h"

namespace {

using namespace stowage;  // NOLINT

constexpr zarr::Limits kLimits{.max_bytes = std::uint64_t{1} << 30, .max_chunks = 1 << 20};
// Chunks at most this large go through an encode/decode round trip.
constexpr std::uint64_t kMaxRoundTripBytes = 1 << 16;

void CheckReencodes(const zarr::Zarr3Metadata& metadata) {
  std::string encoded = zarr::EncodeZarrJson(metadata);
  auto again = zarr::ParseZarrJson(AsBytes(encoded), "re-encoded zarr.json", kLimits);
  fuzz::Check(again.has_value(), "a parsed zarr.json re-encodes to one that parses");
  fuzz::Check(zarr::EncodeZarrJson(*again) == encoded, "a zarr.json re-encodes to the same text");
  fuzz::Check(again->fill_value == metadata.fill_value, "a zarr.json keeps its fill value");
}

void CheckChunkRoundTrip(const zarr::Zarr3Metadata& metadata) {
  fuzz::Check(metadata.fill_value.size() == ItemSize(metadata.dtype), "fill is one element");
  auto bytes = NumBytes(metadata.chunk_shape, metadata.dtype);
  if (!bytes || *bytes > kMaxRoundTripBytes) return;
  zarr::Zarr3ChunkSpec spec{metadata.dtype, metadata.chunk_shape, metadata.fill_value};
  Bytes chunk(*bytes);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = std::byte(i * 7 % 251);
  auto stored = zarr::EncodeZarr3Chunk(metadata.codecs, spec, chunk, /*store_fill=*/true);
  if (!stored || !stored->has_value()) return;
  fuzz::Check((*stored)->size() <= zarr::MaxStoredZarr3ChunkBytes(metadata.codecs, spec),
              "an encoded chunk fits the stored-size bound");
  Bytes decoded(*bytes);
  auto status = zarr::DecodeZarr3Chunk(metadata.codecs, spec, **stored, decoded, "chunk");
  fuzz::Check(status.has_value(), "an encoded chunk decodes");
  fuzz::Check(decoded == chunk, "an encoded chunk decodes to the same bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto metadata = zarr::ParseZarrJson(std::as_bytes(std::span(data, size)), "zarr.json", kLimits);
  if (!metadata) return 0;
  CheckReencodes(*metadata);
  CheckChunkRoundTrip(*metadata);
  return 0;
}

namespace {

// zarr.json texts in TensorStore's resolved form and in looser forms other
// writers use; each is re-encoded by stowage before it becomes a seed.
constexpr std::string_view kZarrJsons[] = {
    R"({"zarr_format":3,"node_type":"array","shape":[8],"data_type":"int32",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[8]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":0,
        "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[4],
          "codecs":[{"name":"bytes","configuration":{"endian":"little"}},
                    {"name":"zstd","configuration":{"level":3,"checksum":false}}],
          "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],
          "index_location":"end"}}]})",
    R"({"zarr_format":3,"node_type":"array","shape":[10,11],"data_type":"float32",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4,5]}},
        "chunk_key_encoding":{"name":"v2","configuration":{"separator":"."}},"fill_value":"NaN",
        "codecs":[{"name":"transpose","configuration":{"order":[1,0]}},
                  {"name":"bytes","configuration":{"endian":"big"}},
                  {"name":"gzip","configuration":{"level":6}}],
        "dimension_names":["x",null],"attributes":{"a":[1,2,{"b":null}]}})",
    R"({"zarr_format":3,"node_type":"array","shape":[100],"data_type":"complex64",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[30]}},
        "chunk_key_encoding":{"name":"default","configuration":{"separator":"."}},
        "fill_value":[1.0,"-Infinity"],
        "codecs":[{"name":"bytes","configuration":{"endian":"little"}},
                  {"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"shuffle",
                   "typesize":8,"blocksize":0}},{"name":"crc32c"}],
        "storage_transformers":[],"extra":{"must_understand":false,"x":1}})",
    R"({"zarr_format":3,"node_type":"array","shape":[],"data_type":"bool",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":true,"codecs":[{"name":"bytes"}]})",
    R"({"zarr_format":3,"node_type":"array","shape":[6,4],"data_type":"bfloat16",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[6,4]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":"0x7fc0",
        "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[3,2],
          "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[1,2],
            "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
            "index_location":"start"}}],
          "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],
          "index_location":"end"}}]})",
    R"({"zarr_format":3,"node_type":"array","shape":[5,0],"data_type":"uint64",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2,1]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":18446744073709551615,
        "codecs":[{"name":"bytes","configuration":{"endian":"little"}},
                  {"name":"zstd","configuration":{"level":1,"checksum":true}}]})",
};

}  // namespace

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  int n = 0;
  for (std::string_view text : kZarrJsons) {
    auto metadata = zarr::ParseZarrJson(AsBytes(text), "seed", kLimits);
    fuzz::Check(metadata.has_value(), "every seed zarr.json parses");
    seeds.push_back(fuzz::TextSeed("seed_" + std::to_string(n++), zarr::EncodeZarrJson(*metadata)));
  }
  seeds.push_back(fuzz::TextSeed("loose_form", kZarrJsons[1]));
  return seeds;
}
