// Reads and writes zarr v3 arrays in a Store, whole or one region (a box in
// global coordinates) at a time, byte-compatible with TensorStore's "zarr3"
// driver: the metadata under "<prefix>/zarr.json" and one value per outer
// chunk (a shard, with `sharding_indexed`) under "<prefix>/<chunk key>".
// Like the zarr v2 functions in zarr_array.h, outer chunks are encoded, cast
// and moved in parallel on a thread pool.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "array/zarr_array.h"
#include "stowage/array.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "zarr/zarr3_metadata.h"

namespace stowage::array_io {

struct Zarr3WriteSpec {
  Shape chunks;  // outer chunk (chunk_grid) shape, same rank as the array
  // The "codecs" list; missing members take TensorStore's defaults (e.g.
  // {"name":"zstd"} is level 3) and an empty list means `bytes` little-endian.
  nlohmann::json codecs = nlohmann::json::array();
  // As in zarr.json; null means zero (TensorStore's default: 0, false, [0.0, 0.0]).
  nlohmann::json fill_value;
  std::optional<DType> dtype;  // stored dtype when it differs (cast per chunk)
  zarr::ChunkKeyEncoding chunk_key_encoding;
  // Orbax sets TensorStore's store_data_equal_to_fill_value (its default is
  // false): when false, (inner) chunks equal to the fill value are not stored
  // and a chunk with nothing stored has its key deleted.
  bool store_data_equal_to_fill_value = true;
  nlohmann::json dimension_names;  // null, or a string/null per dimension
  nlohmann::json attributes;       // null or an object
};

// The spec Orbax builds for a zarr3 array (orbax
// _src/serialization/tensorstore_utils.py, build_zarr_shard_and_chunk_metadata
// with use_zarr3=True, fed by ArrayWriteSpec): the chunk shape is
// ChooseChunkShape(global_shape, write_shape, dtype, chunk_byte_size,
// shard_axes) and serves as BOTH the outer chunk_grid shape and the
// sharding_indexed inner chunk_shape (Orbax ignores the shard/write shape
// there), with inner codecs [bytes little, zstd (level 3)] — zstd only when
// use_compression, its frames with a content checksum ("checksum": true)
// when zstd_checksum, as TensorStore writes by default (no checksum, Orbax's
// exact bytes) otherwise — index codecs [bytes little, crc32c], index at the
// end, fill value 0 and store_data_equal_to_fill_value = true.
// `chunk_byte_size` is the caller's already-capped value (Orbax's
// calculate_chunk_byte_size caps it by the OCDBT target data file size).
// Errors: those of ChooseChunkShape.
Result<Zarr3WriteSpec> OrbaxZarr3WriteSpec(std::span<const std::int64_t> global_shape,
                                           std::span<const std::int64_t> write_shape, DType dtype,
                                           std::optional<std::int64_t> chunk_byte_size,
                                           std::span<const int> shard_axes = {},
                                           bool use_compression = true, bool zstd_checksum = true);

// The zarr.json `spec` describes for an array of `shape` and `dtype`.
// Errors: kInvalidArgument (bad codecs, fill value, chunk shape, or a
// sharding chunk that does not divide the outer chunk), kUnsupported (codec),
// kResourceExhausted (beyond `limits`).
Result<zarr::Zarr3Metadata> MakeZarr3Metadata(const Shape& shape, DType dtype,
                                              const Zarr3WriteSpec& spec,
                                              const zarr::Limits& limits = {});

// Starts writing the part of the zarr3 array of `global_shape` under `spec`
// (stored dtype: spec.dtype, else values's dtype) that `values` holds: the
// region of values->shape() starting at `origin` (global coordinates).
// Writes every outer chunk lying in the region (with `sharding_indexed`, every
// shard: spec.chunks is the shard shape), each cast to the stored dtype and,
// at the array's edge, padded with the fill value as WriteZarr3ArrayAsync
// does, and no other; `values` is shared, so the caller may drop its
// reference. Returns at once. Checked before anything is written: the spec
// (MakeZarr3Metadata's errors; options.io.limits bounds one outer chunk, not
// the whole array), and (kInvalidArgument naming the prefix) that the region
// lies inside the array and starts on an outer chunk boundary and ends on one
// or at the array's edge in every dimension, so that no shard is shared with
// another writer. A region without elements writes only the metadata (if
// asked). The future fails with the first error (kIo naming the file).
Future<void> WriteZarr3RegionAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                   Shape global_shape, Zarr3WriteSpec spec,
                                   std::shared_ptr<const Array> values, Shape origin,
                                   RegionWriteOptions options = {});

// Blocking form of WriteZarr3RegionAsync.
Status WriteZarr3Region(std::shared_ptr<kvstore::Store> store, std::string prefix,
                        Shape global_shape, Zarr3WriteSpec spec,
                        std::shared_ptr<const Array> values, Shape origin,
                        RegionWriteOptions options = {});

// Starts writing `array` (which the caller keeps alive and unchanged until
// the future is ready) and returns at once: the region write of the whole
// array (origin 0) with its metadata. The future fails with the first error
// (kIo naming the file, or MakeZarr3Metadata's errors).
Future<void> WriteZarr3ArrayAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                  std::shared_ptr<const Array> array, Zarr3WriteSpec spec,
                                  IoOptions options = {});

// Blocking form of WriteZarr3ArrayAsync.
Status WriteZarr3Array(std::shared_ptr<kvstore::Store> store, std::string prefix,
                       std::shared_ptr<const Array> array, Zarr3WriteSpec spec,
                       IoOptions options = {});

// Reads and validates "<prefix>/zarr.json". Errors: kNotFound naming the
// file, plus those of zarr::ParseZarrJson.
Result<zarr::Zarr3Metadata> ReadZarr3Metadata(const kvstore::Store& store, std::string_view prefix,
                                              const zarr::Limits& limits = {});

// Reads the whole array under `prefix`. A missing outer chunk is the fill
// value when options.fill_missing, else kNotFound; a missing inner chunk of a
// present shard is always the fill value. Errors: kNotFound, kDataLoss
// (corrupt metadata, chunk or shard index, naming the key), kUnsupported,
// kResourceExhausted (beyond options.io.limits).
Result<Array> ReadZarr3Array(const kvstore::Store& store, std::string_view prefix,
                             const ZarrReadOptions& options = {});

// Reads `region` (global coordinates) of the array under `prefix` into a new
// array of region.shape, in options.dtype (default: the stored dtype).
// Reads and decodes, in parallel on options.io.pool, only the outer chunks
// (shards) that overlap the region, each whole. options.io.limits bounds the
// region's bytes and one outer chunk's, not the whole array's. Errors:
// kInvalidArgument (the region's rank differs from the array's or it is not
// inside the array, naming the prefix), then as ReadZarr3Array.
Result<Array> ReadZarr3Region(const kvstore::Store& store, std::string_view prefix,
                              const Region& region, const ZarrReadOptions& options = {});

// As ReadZarr3Region, but decodes into `out`, which must hold exactly the
// region's elements (C order) in options.dtype (default: the stored dtype,
// see ReadZarr3Metadata); otherwise kInvalidArgument. On error `out` may be
// partly written.
Status ReadZarr3RegionInto(const kvstore::Store& store, std::string_view prefix,
                           const Region& region, std::span<std::byte> out,
                           const ZarrReadOptions& options = {});

}  // namespace stowage::array_io
