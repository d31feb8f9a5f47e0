// zarr v3 array metadata (the `zarr.json` of an array): parse with
// TensorStore's read rules and emit exactly the text TensorStore writes
// (compact JSON, sorted keys, resolved codecs; tensorstore/driver/zarr3/
// metadata.cc MetadataJsonBinder, driver.cc EncodeMetadata).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "stowage/array.h"
#include "stowage/error.h"
#include "zarr/zarr3_chunk_key.h"
#include "zarr/zarr3_codec_spec.h"
#include "zarr/zarray.h"

namespace stowage::zarr {

struct Zarr3Metadata {
  Shape shape;
  Shape chunk_shape;  // the regular (outer) chunk grid
  DType dtype = DType::kFloat32;
  Bytes fill_value;  // one element, native little-endian
  ChunkKeyEncoding chunk_key_encoding;
  Zarr3CodecChain codecs;
  // Kept as stored: null or an array of strings/nulls (written only when one
  // is a string); null or an object (written only when non-empty); and any
  // unknown members marked {"must_understand": false}, written back.
  nlohmann::json dimension_names;
  nlohmann::json attributes;
  nlohmann::json extensions = nlohmann::json::object();

  // Elements of one full outer chunk.
  std::int64_t chunk_elements() const;
  // Outer chunks along each dimension (ceil(shape / chunk_shape)).
  Shape grid_shape() const;
};

// The `zarr.json` text TensorStore writes for `metadata`.
std::string EncodeZarrJson(const Zarr3Metadata& metadata);

// Parses and validates a `zarr.json`; `path` names it in messages. Errors:
// kDataLoss (bad JSON, missing or ill-typed member, rank mismatch,
// non-positive chunk, sharding chunk not dividing the chunk it shards),
// kUnsupported (zarr_format != 3, node_type != "array", unknown data type or
// codec, non-empty storage_transformers, an unknown member not marked
// {"must_understand": false}), kResourceExhausted (array, chunk, chunk count
// or shard index beyond `limits`).
Result<Zarr3Metadata> ParseZarrJson(std::span<const std::byte> text, std::string_view path,
                                    const Limits& limits = {});

// Checks that `chain` fits chunks of `chunk_shape` (every sharding level's
// inner chunk divides the shape it sees, inner grids have at most 2^30
// entries) and that chunks, shard indices and the grid stay within
// `limits`. Errors as ParseZarrJson (`bad` is the code for shape errors).
Status ValidateZarr3Layout(const Zarr3Metadata& metadata, std::string_view path,
                           const Limits& limits, ErrorCode bad);

}  // namespace stowage::zarr
