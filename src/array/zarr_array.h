// Reads and writes whole arrays as zarr v2 arrays in a Store: the `.zarray`
// under "<prefix>/.zarray" and one value per chunk under
// "<prefix>/<chunk key>". Chunk encoding, casting and I/O run in parallel on
// a thread pool; at most one chunk buffer per worker is alive at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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
};

// Starts writing `array` (which the caller keeps alive and unchanged until
// the future is ready) and returns at once. The future fails with the first
// error of any chunk (kIo naming the file, kInvalidArgument for a bad spec).
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
// !fill_missing, a chunk), kDataLoss (corrupt metadata or chunk, naming the
// file), kUnsupported, kResourceExhausted (beyond options.io.limits).
Result<Array> ReadZarrArray(const kvstore::Store& store, std::string_view prefix,
                            const ZarrReadOptions& options = {});

}  // namespace stowage::array_io
