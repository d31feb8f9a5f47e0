// The zarr v3 "codecs" list as a parsed structure, and its JSON in the
// resolved form TensorStore stores (every default filled in; see
// tensorstore/driver/zarr3/codec/*.cc). A chain is: array->array codecs
// (`transpose`), exactly one array->bytes codec (`bytes` or
// `sharding_indexed`), then bytes->bytes codecs (`zstd`, `gzip`, `blosc`,
// `crc32c`). Encoding applies them in list order, decoding in reverse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "stowage/array.h"
#include "stowage/dtype.h"
#include "stowage/error.h"

namespace stowage::zarr {

enum class Endian { kLittle, kBig };

// `bytes`: elements in C order, each in `endian`; unset for 1-byte types.
struct Zarr3BytesCodec {
  std::optional<Endian> endian;
};

// `transpose`: encoded dimension i is decoded dimension order[i].
struct Zarr3TransposeCodec {
  std::vector<int> order;
};

// `zstd`: one frame recording its content size; riegeli's default level 3.
struct Zarr3ZstdCodec {
  int level = 3;
  bool checksum = false;
};

// `gzip`: one gzip member.
struct Zarr3GzipCodec {
  int level = 6;
};

// `blosc`: a c-blosc 1.x buffer. `shuffle` uses c-blosc's codes.
struct Zarr3BloscCodec {
  static constexpr int kNoShuffle = 0, kShuffle = 1, kBitShuffle = 2;
  std::string cname = "lz4";
  int clevel = 5;
  int shuffle = kShuffle;
  std::int64_t typesize = 1;  // not stored when shuffle is kNoShuffle
  std::int64_t blocksize = 0;
};

// `crc32c`: the input followed by its CRC-32C as a little-endian u32.
struct Zarr3Crc32cCodec {};

using Zarr3BytesToBytesCodec =
    std::variant<Zarr3ZstdCodec, Zarr3GzipCodec, Zarr3BloscCodec, Zarr3Crc32cCodec>;

struct Zarr3ShardingCodec;

struct Zarr3CodecChain {
  std::vector<Zarr3TransposeCodec> transposes;
  Zarr3BytesCodec bytes;                               // used when !sharding
  std::shared_ptr<const Zarr3ShardingCodec> sharding;  // the array->bytes codec, if set
  std::vector<Zarr3BytesToBytesCodec> bytes_to_bytes;
};

// `sharding_indexed`: a shard holds a grid of inner chunks plus an index.
struct Zarr3ShardingCodec {
  Shape chunk_shape;             // inner chunk shape
  Zarr3CodecChain codecs;        // applied to each inner chunk
  Zarr3CodecChain index_codecs;  // applied to the uint64 index [grid..., 2]
  bool index_at_start = false;   // "index_location": "start"
};

// How strictly ParseCodecChain reads its input.
struct CodecParseOptions {
  // true: a stored zarr.json (TensorStore's rules: every member the resolved
  // form has is required; errors are kDataLoss). false: a caller's spec
  // (missing members take TensorStore's defaults, a missing array->bytes
  // codec becomes `bytes` little-endian, codecs may be bare name strings;
  // errors are kInvalidArgument).
  bool stored = true;
  std::string where;    // file or spec named in messages
  int max_nesting = 8;  // sharding_indexed levels allowed (hostile input)
};

// Parses a "codecs" list for arrays of `dtype` and `rank`. Errors
// (kDataLoss/kInvalidArgument per `options`): malformed JSON, unknown
// configuration members, a bad permutation, codecs in the wrong order, a
// sharding chunk_shape of the wrong rank or non-positive; kUnsupported: an
// unknown codec name, bytes->bytes codecs after sharding_indexed (TensorStore
// rejects them), index_codecs that are not of fixed size.
Result<Zarr3CodecChain> ParseCodecChain(const nlohmann::json& codecs, DType dtype, std::size_t rank,
                                        const CodecParseOptions& options);

// The resolved "codecs" list TensorStore writes for `chain`.
nlohmann::json CodecChainToJson(const Zarr3CodecChain& chain);

}  // namespace stowage::zarr
