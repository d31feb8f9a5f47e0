// Fuzzes the `sharding_indexed` decoder (zarr::DecodeShard through
// zarr::DecodeZarr3Chunk): the shard index at the start or end, with and
// without crc32c, in either byte order; inner chunks compressed, checksummed,
// transposed or sharded again. Input: a byte choosing a chain below, then the
// stored shard. Invariant: a shard that decodes re-encodes to one that
// decodes to the same array.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "zarr3_chain.h"

namespace {

using namespace stowage;  // NOLINT
using fuzz::ChainConfig;

const ChainConfig kConfigs[] = {
    {DType::kUint8,
     {8, 8},
     R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[4,4],"codecs":["bytes"],
         "index_codecs":["bytes","crc32c"]}}])"},
    {DType::kUint16,
     {16},
     R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[4],"codecs":["bytes","zstd"],
         "index_codecs":["bytes"]}}])"},
    {DType::kInt32,
     {6, 4},
     R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[3,2],
         "codecs":[{"name":"bytes","configuration":{"endian":"big"}},"gzip"],
         "index_codecs":["bytes"],"index_location":"start"}}])"},
    {DType::kFloat32,
     {8, 8},
     R"([{"name":"transpose","configuration":{"order":[1,0]}},
         {"name":"sharding_indexed","configuration":{"chunk_shape":[4,2],"codecs":["bytes","crc32c"],
         "index_codecs":["bytes","crc32c"],"index_location":"start"}}])"},
    {DType::kUint8,
     {16},
     R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[8],
         "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[2],"codecs":["bytes"],
         "index_codecs":["bytes"]}}],"index_codecs":["bytes"]}}])"},
    {DType::kInt64,
     {4},
     R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[1],
         "codecs":["bytes",{"name":"blosc","configuration":{"cname":"lz4","shuffle":"noshuffle"}}],
         "index_codecs":[{"name":"bytes","configuration":{"endian":"big"}}]}}])"},
    {DType::kFloat64,
     {2, 3, 4},
     R"([{"name":"sharding_indexed","configuration":{"chunk_shape":[1,3,2],
         "codecs":[{"name":"transpose","configuration":{"order":[2,1,0]}},"bytes"],
         "index_codecs":["bytes"],"index_location":"end"}}])"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::RunZarr3ChunkTarget(kConfigs, data, size);
}

std::vector<fuzz::Seed> fuzz::Seeds() { return fuzz::Zarr3ChunkSeeds(kConfigs); }
