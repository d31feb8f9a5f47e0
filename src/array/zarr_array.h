// Reads and writes zarr v2 arrays in a Store, whole or one region (a box in
// global coordinates) at a time: the `.zarray` under "<prefix>/.zarray" and
// one value per chunk under "<prefix>/<chunk key>". Chunk encoding, casting
// and I/O run in parallel on a thread pool; at most one chunk buffer per
// worker is alive at a time. Region writes let several processes each write
// their own part (shard) of one array; region reads touch only the chunks
// overlapping the region.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "array/chunk_grid.h"
#include "base/thread_pool.h"
#include "stowage/array.h"
#include "stowage/future.h"
#include "stowage/kvstore.h"
#include "zarr/zarray.h"

namespace stowage::array_io {

// Called from worker threads with the number of array bytes just processed.
using ProgressFn = std::function<void(std::uint64_t bytes)>;

struct ZarrWriteSpec {
  Shape chunks;                // chunk shape (same rank as the array)
  nlohmann::json compressor;   // e.g. {"id":"zstd","level":1}; null = raw
  std::optional<DType> dtype;  // stored dtype when it differs (cast per chunk)
};

struct IoOptions {
  ThreadPool* pool = nullptr;  // null: ThreadPool::Default()
  ProgressFn progress;         // optional
  zarr::Limits limits;
  // Chunk buffers (encoded and decoded) in flight at once stay within this
  // many bytes: fewer workers run on large chunks (at least one). 0: no limit.
  std::uint64_t max_in_flight_bytes = 0;
};

// The `.zarray` that WriteZarrArrayAsync writes for an array of `shape`
// holding `dtype` elements (stored as spec.dtype when set). Errors:
// kInvalidArgument (chunk rank differs from the shape's, a chunk size that is
// not positive, a negative dimension).
Result<zarr::ZarrayMetadata> MakeZarrayMetadata(const Shape& shape, DType dtype,
                                                const ZarrWriteSpec& spec);

struct RegionWriteOptions {
  // Also write the array's metadata (`.zarray`, or `zarr.json` for zarr3).
  // In a multi-process save only one process (process 0) does.
  bool write_metadata = true;
  IoOptions io;
};

// Starts writing the part of the zarr v2 array `metadata` (the GLOBAL
// array's: shape, chunks, stored dtype, compressor, order) that `values`
// holds: the region of values->shape() starting at `origin` (global
// coordinates). Writes every chunk lying in the region, each cast to the
// stored dtype and, at the array's edge, padded with zeros as
// WriteZarrArrayAsync does, and no other chunk; `values` is shared, so the
// caller may drop its reference. Returns at once. Checked before anything is
// written (kInvalidArgument naming the prefix): `metadata` is well formed,
// the region lies inside the array and starts on a chunk boundary and ends on
// one or at the array's edge in every dimension, so that no chunk is shared
// with another writer. A region without elements writes only the metadata
// (if asked). The future fails with the first error of any chunk (kIo naming
// the file; kUnsupported for a compressor stowage cannot build).
Future<void> WriteZarrRegionAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                  zarr::ZarrayMetadata metadata,
                                  std::shared_ptr<const Array> values, Shape origin,
                                  RegionWriteOptions options = {});

// Blocking form of WriteZarrRegionAsync.
Status WriteZarrRegion(std::shared_ptr<kvstore::Store> store, std::string prefix,
                       zarr::ZarrayMetadata metadata, std::shared_ptr<const Array> values,
                       Shape origin, RegionWriteOptions options = {});

// Starts writing `array` (which the caller keeps alive and unchanged until
// the future is ready) and returns at once: the region write of the whole
// array (origin 0) with its metadata, MakeZarrayMetadata(array's shape and
// dtype, spec). The future fails with the first error of any chunk (kIo
// naming the file, kInvalidArgument for a bad spec).
Future<void> WriteZarrArrayAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                 std::shared_ptr<const Array> array, ZarrWriteSpec spec,
                                 IoOptions options = {});

// Blocking form of WriteZarrArrayAsync.
Status WriteZarrArray(std::shared_ptr<kvstore::Store> store, std::string prefix,
                      std::shared_ptr<const Array> array, ZarrWriteSpec spec,
                      IoOptions options = {});

// Reads and validates "<prefix>/.zarray". Errors: kNotFound naming the file,
// plus those of zarr::ParseZarray.
Result<zarr::ZarrayMetadata> ReadZarrayMetadata(const kvstore::Store& store,
                                                std::string_view prefix,
                                                const zarr::Limits& limits = {});

struct ZarrReadOptions {
  // A missing chunk reads as the fill value instead of failing (kNotFound).
  bool fill_missing = false;
  // Converts to this dtype while reading.
  std::optional<DType> dtype;
  IoOptions io;
};

// Reads the whole array under `prefix`. Errors: kNotFound (`.zarray` or, when
// !fill_missing, a chunk, naming its key), kDataLoss (corrupt metadata or
// chunk, naming the file), kUnsupported, kResourceExhausted (the array, in
// its stored or requested dtype, or a chunk beyond options.io.limits).
Result<Array> ReadZarrArray(const kvstore::Store& store, std::string_view prefix,
                            const ZarrReadOptions& options = {});

// Reads `region` (global coordinates) of the array under `prefix` into a new
// array of region.shape, in options.dtype (default: the stored dtype).
// Reads and decodes, in parallel on options.io.pool, only the chunks that
// overlap the region. options.io.limits bounds the region's bytes and one
// chunk's, not the whole array's. Errors: kInvalidArgument (the region's
// rank differs from the array's or it is not inside the array, naming the
// prefix), then as ReadZarrArray.
Result<Array> ReadZarrRegion(const kvstore::Store& store, std::string_view prefix,
                             const Region& region, const ZarrReadOptions& options = {});

// As ReadZarrRegion, but decodes into `out`, which must hold exactly the
// region's elements (C order) in options.dtype (default: the stored dtype,
// see ReadZarrayMetadata); otherwise kInvalidArgument. On error `out` may be
// partly written.
Status ReadZarrRegionInto(const kvstore::Store& store, std::string_view prefix,
                          const Region& region, std::span<std::byte> out,
                          const ZarrReadOptions& options = {});

}  // namespace stowage::array_io
