// Codec chains the zarr v3 chunk and shard fuzzers decode against: each a
// data type, a chunk shape and a "codecs" list as a caller's spec (missing
// members take TensorStore's defaults), parsed once with the library's own
// parser.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "fuzz_input.h"
#include "zarr/zarr3_codec.h"
#include "zarr/zarr3_codec_spec.h"

namespace stowage::fuzz {

struct ChainConfig {
  DType dtype;
  Shape shape;
  std::string_view codecs;  // JSON
};

// A parsed chain with the chunk it decodes.
struct Zarr3Chain {
  zarr::Zarr3CodecChain chain;
  DType dtype;
  Shape shape;
  Bytes fill;  // 0x2A in every byte

  zarr::Zarr3ChunkSpec spec() const { return {dtype, shape, fill}; }
};

// Parses every configuration; aborts when one does not parse (a bug in the
// fuzzer, not in the input).
inline std::vector<Zarr3Chain> ParseChains(std::span<const ChainConfig> configs) {
  std::vector<Zarr3Chain> chains;
  for (const ChainConfig& config : configs) {
    zarr::CodecParseOptions options;
    options.stored = false;
    auto chain = zarr::ParseCodecChain(nlohmann::json::parse(config.codecs), config.dtype,
                                       config.shape.size(), options);
    Check(chain.has_value(), "every fuzzer codec chain parses");
    Bytes fill(ItemSize(config.dtype), std::byte{0x2A});
    chains.push_back({std::move(*chain), config.dtype, config.shape, std::move(fill)});
  }
  return chains;
}

// Decodes input.Rest() as a chunk of `chain`; on success, checks that it
// re-encodes (storing even all-fill chunks) to bytes that decode the same.
inline void FuzzZarr3Chunk(const Zarr3Chain& chain, FuzzInput& input) {
  Bytes decoded(NumBytes(chain.shape, chain.dtype).value());
  auto spec = chain.spec();
  if (!zarr::DecodeZarr3Chunk(chain.chain, spec, input.Rest(), decoded, "chunk").has_value()) {
    return;
  }
  auto stored = zarr::EncodeZarr3Chunk(chain.chain, spec, decoded, /*store_fill=*/true);
  Check(stored.has_value() && stored->has_value(), "a decoded chunk encodes");
  Check((*stored)->size() <= zarr::MaxStoredZarr3ChunkBytes(chain.chain, spec),
        "an encoded chunk fits the stored-size bound");
  Bytes again(decoded.size());
  Check(zarr::DecodeZarr3Chunk(chain.chain, spec, **stored, again, "chunk").has_value(),
        "an encoded chunk decodes");
  Check(again == decoded, "an encoded chunk decodes to the same bytes");
}

// The whole fuzz target over `configs`: the first input byte picks a chain.
inline int RunZarr3ChunkTarget(std::span<const ChainConfig> configs, const std::uint8_t* data,
                               std::size_t size) {
  static const std::vector<Zarr3Chain> chains = ParseChains(configs);
  FuzzInput input(data, size);
  FuzzZarr3Chunk(chains[input.Byte() % chains.size()], input);
  return 0;
}

// One seed per chain: a chunk half of fill values (so that sharded seeds have
// absent inner chunks too), encoded, behind the byte that picks the chain.
inline std::vector<Seed> Zarr3ChunkSeeds(std::span<const ChainConfig> configs) {
  std::vector<Seed> seeds;
  std::vector<Zarr3Chain> chains = ParseChains(configs);
  for (std::size_t i = 0; i < chains.size(); ++i) {
    const Zarr3Chain& chain = chains[i];
    Bytes chunk = SampleData(NumBytes(chain.shape, chain.dtype).value());
    for (std::size_t b = 0; b < chunk.size() / 2; ++b) chunk[b] = chain.fill[0];
    auto stored = zarr::EncodeZarr3Chunk(chain.chain, chain.spec(), chunk, /*store_fill=*/false);
    Check(stored.has_value() && stored->has_value(), "every seed chunk encodes");
    seeds.push_back(
        MakeSeed("chain_" + std::to_string(i), {static_cast<std::uint8_t>(i)}, **stored));
  }
  return seeds;
}

}  // namespace stowage::fuzz
