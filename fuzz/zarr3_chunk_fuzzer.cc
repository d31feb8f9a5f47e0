// Fuzzes the zarr v3 chunk decoder (zarr::DecodeZarr3Chunk) through every
// non-sharding codec: transpose, bytes (both byte orders), zstd, gzip, blosc
// and crc32c, alone and chained. Input: a byte choosing a chain below, then
// the stored chunk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "zarr3_chain.h"

namespace {

using namespace stowage;  // NOLINT
using fuzz::ChainConfig;

const ChainConfig kConfigs[] = {
    {DType::kUint8, {16}, R"(["bytes"])"},
    {DType::kInt32, {4, 5}, R"([{"name":"bytes","configuration":{"endian":"big"}}])"},
    {DType::kFloat32,
     {8, 8},
     R"([{"name":"transpose","configuration":{"order":[1,0]}},"bytes","zstd"])"},
    {DType::kInt16,
     {3, 4, 5},
     R"([{"name":"transpose","configuration":{"order":[2,0,1]}},
         {"name":"bytes","configuration":{"endian":"big"}},{"name":"gzip","configuration":{"level":1}}])"},
    {DType::kFloat64,
     {100},
     R"(["bytes",{"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"shuffle","typesize":8}}])"},
    {DType::kUint16, {50}, R"(["bytes","crc32c"])"},
    {DType::kFloat32, {64}, R"(["bytes","zstd","crc32c"])"},
    {DType::kUint64,
     {10},
     R"(["bytes","crc32c",{"name":"zstd","configuration":{"level":1,"checksum":true}}])"},
    {DType::kComplex64,
     {4, 4},
     R"([{"name":"transpose","configuration":{"order":[1,0]}},"bytes",
         {"name":"blosc","configuration":{"cname":"zstd","clevel":1,"shuffle":"bitshuffle","typesize":8}},"crc32c"])"},
    {DType::kBool, {33}, R"(["bytes","gzip"])"},
    {DType::kBfloat16, {12}, R"([{"name":"bytes","configuration":{"endian":"big"}},"zstd"])"},
    {DType::kInt8, {}, R"(["bytes","crc32c"])"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::RunZarr3ChunkTarget(kConfigs, data, size);
}

std::vector<fuzz::Seed> fuzz::Seeds() { return fuzz::Zarr3ChunkSeeds(kConfigs); }
