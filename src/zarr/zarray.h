// zarr v2 array metadata (the `.zarray` file): parse and emit.
// Spec: https://zarr-specs.readthedocs.io/en/latest/v2/v2.0.html; what
// TensorStore writes: tensorstore/driver/zarr/metadata.cc (compact JSON with
// sorted keys, every field present).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "stowage/array.h"
#include "stowage/error.h"
#include "zarr/dtype_names.h"

namespace stowage::zarr {

// Bounds that hostile metadata cannot exceed; checked before allocating.
struct Limits {
  // Largest array or chunk, in bytes. 0 means "the machine's physical memory".
  std::uint64_t max_bytes = 0;
  // Largest number of chunks in one array.
  std::uint64_t max_chunks = std::uint64_t{1} << 26;
};

// The effective byte limit (resolving 0 to the machine's memory).
std::uint64_t MaxBytes(const Limits& limits);

struct ZarrayMetadata {
  Shape shape;
  Shape chunks;
  ZarrDType dtype;
  nlohmann::json compressor;  // null: chunks stored raw
  nlohmann::json fill_value;  // null: zeros
  char order = 'C';           // 'C' or 'F': element order inside a chunk
  char dimension_separator = '.';

  // Element count of one (full) chunk.
  std::int64_t chunk_elements() const;
  // Chunks along each dimension (ceil(shape / chunks)).
  Shape grid_shape() const;
};

// The `.zarray` text TensorStore would write for `metadata`.
std::string EncodeZarray(const ZarrayMetadata& metadata);

// Parses and validates a `.zarray`. `path` names the file in messages.
// Errors: kDataLoss (bad JSON, missing/ill-typed field, rank mismatch,
// non-positive chunk, negative dimension), kUnsupported (dtype, filters,
// zarr_format != 2), kResourceExhausted (shape or chunk beyond `limits`).
Result<ZarrayMetadata> ParseZarray(std::span<const std::byte> text, std::string_view path,
                                   const Limits& limits = {});

}  // namespace stowage::zarr
