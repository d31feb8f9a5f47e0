#include "array/chunk_io.h"

#include <limits>

#include "array/box_copy.h"
#include "array/parallel_for.h"
#include "base/thread_pool.h"

namespace stowage::array_io {
namespace {

ThreadPool& PoolOf(const IoOptions& options) {
  return options.pool ? *options.pool : ThreadPool::Default();
}

std::size_t Elements(const Shape& shape) {
  return static_cast<std::size_t>(NumElements(shape).value());
}

// Copies the overlap of `box` from a decoded chunk (`chunk_shape` elements
// of `stored_dtype`) into `target`, converting to target.dtype.
void CopyChunkIntoTarget(std::span<const std::byte> decoded, DType stored_dtype,
                         const Shape& chunk_shape, const ChunkBox& box, const ReadTarget& target) {
  std::size_t out_item = ItemSize(target.dtype);
  if (stored_dtype == target.dtype) {
    CopyBox(decoded, chunk_shape, box.in_chunk, target.bytes, target.shape, box.in_region,
            box.overlap, out_item);
    return;
  }
  Shape zero(chunk_shape.size(), 0);
  std::span<const std::byte> part = decoded;
  Bytes gathered;
  if (box.overlap != chunk_shape) {  // cast only the elements the region needs
    gathered.resize(Elements(box.overlap) * ItemSize(stored_dtype));
    CopyBox(decoded, chunk_shape, box.in_chunk, gathered, box.overlap, zero, box.overlap,
            ItemSize(stored_dtype));
    part = gathered;
  }
  std::size_t elements = Elements(box.overlap);
  Bytes cast(elements * out_item);
  CastElements(stored_dtype, part, target.dtype, cast, elements);
  CopyBox(cast, box.overlap, zero, target.bytes, target.shape, box.in_region, box.overlap,
          out_item);
}

// How many chunks may be worked on at once within `budget` bytes: each
// worker may hold a chunk's encoded and decoded bytes.
std::size_t WorkersWithin(std::uint64_t budget, const Shape& chunk_shape, std::size_t item_size) {
  if (budget == 0) return SIZE_MAX;
  std::uint64_t per_worker = 2 * Elements(chunk_shape) * std::max<std::size_t>(item_size, 1);
  return static_cast<std::size_t>(
      std::max<std::uint64_t>(1, budget / std::max<std::uint64_t>(1, per_worker)));
}

}  // namespace

std::string JoinKey(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "/" + std::string(key);
}

Future<void> ForEachChunk(const IoOptions& options, const Shape& shape, const Shape& chunk_shape,
                          const Region& region, std::size_t item_size,
                          std::function<Status()> write_metadata,
                          std::function<Status(const ChunkBox&)> process) {
  ChunksInRegion chunks(shape, chunk_shape, region);
  std::int64_t first_chunk = write_metadata ? 1 : 0;  // task 0 writes the metadata
  auto task = [=, progress = options.progress](std::int64_t i) -> Status {
    if (i < first_chunk) return write_metadata();
    ChunkBox box = chunks[i - first_chunk];
    STOWAGE_RETURN_IF_ERROR(process(box));
    if (progress) progress(Elements(box.overlap) * item_size);
    return OkStatus();
  };
  return ParallelFor(PoolOf(options), first_chunk + chunks.size(), std::move(task),
                     WorkersWithin(options.max_in_flight_bytes, chunk_shape, item_size));
}

zarr::Limits WithoutArrayBound(const zarr::Limits& limits) {
  zarr::Limits relaxed = limits;
  relaxed.max_bytes = std::numeric_limits<std::uint64_t>::max();
  return relaxed;
}

Status CheckChunkBytes(const Shape& chunk_shape, DType dtype, const zarr::Limits& limits,
                       std::string_view path) {
  auto bytes = NumBytes(chunk_shape, dtype);
  if (!bytes.has_value() || *bytes > zarr::MaxBytes(limits)) {
    return ResourceExhaustedError(std::string(path) + ": chunk shape " +
                                  ShapeToString(chunk_shape) + " exceeds the limit of " +
                                  std::to_string(zarr::MaxBytes(limits)) + " bytes");
  }
  return OkStatus();
}

Result<Array> AllocateReadTarget(const Shape& shape, DType dtype, const zarr::Limits& limits,
                                 std::string_view path) {
  STOWAGE_ASSIGN_OR_RETURN(std::size_t bytes, NumBytes(shape, dtype));
  if (bytes > zarr::MaxBytes(limits)) {
    return ResourceExhaustedError(std::string(path) + ": restoring " + ShapeToString(shape) +
                                  " as " + std::string(DTypeName(dtype)) + " needs " +
                                  std::to_string(bytes) + " bytes, over the limit");
  }
  return Array::Uninitialized(dtype, shape);
}

Result<ReadTarget> MakeReadTarget(std::span<std::byte> bytes, const Shape& shape, DType dtype,
                                  std::string_view path) {
  auto needed = NumBytes(shape, dtype);
  if (!needed.has_value() || *needed != bytes.size()) {
    return InvalidArgumentError(std::string(path) + ": a buffer of " +
                                std::to_string(bytes.size()) + " bytes cannot hold " +
                                ShapeToString(shape) + " " + std::string(DTypeName(dtype)));
  }
  return ReadTarget{bytes, shape, dtype};
}

Status ReadRegionChunks(const IoOptions& options, const Shape& shape, const Shape& chunk_shape,
                        DType stored_dtype, const Region& region, const ReadTarget& target,
                        const DecodeChunkFn& decode) {
  std::size_t chunk_bytes = Elements(chunk_shape) * ItemSize(stored_dtype);
  auto read_chunk = [&](const ChunkBox& box) -> Status {
    if (box.contiguous_at && stored_dtype == target.dtype) {  // straight into place
      return decode(box,
                    target.bytes.subspan(*box.contiguous_at * ItemSize(target.dtype), chunk_bytes));
    }
    Bytes decoded(chunk_bytes);
    STOWAGE_RETURN_IF_ERROR(decode(box, decoded));
    CopyChunkIntoTarget(decoded, stored_dtype, chunk_shape, box, target);
    return OkStatus();
  };
  ChunksInRegion chunks(shape, chunk_shape, region);
  if (chunks.size() == 1) {  // small arrays: no hand-off to a worker and back
    STOWAGE_RETURN_IF_ERROR(read_chunk(chunks[0]));
    if (options.progress) options.progress(Elements(region.shape) * ItemSize(target.dtype));
    return OkStatus();
  }
  // Waiting here keeps `decode` and `target` (borrowed) alive for the tasks.
  return ForEachChunk(options, shape, chunk_shape, region, ItemSize(target.dtype), nullptr,
                      read_chunk)
      .Wait();
}

std::span<const std::byte> GatherChunk(const Array& values, const ChunkBox& box,
                                       const Shape& chunk_shape, DType stored_dtype,
                                       std::span<const std::byte> fill, Bytes& scratch) {
  std::size_t item = ItemSize(values.dtype());
  if (box.contiguous_at && stored_dtype == values.dtype()) {  // no copy
    return values.bytes().subspan(*box.contiguous_at * item, Elements(chunk_shape) * item);
  }
  scratch.resize(Elements(chunk_shape) * ItemSize(stored_dtype));
  if (box.extent != chunk_shape) FillWith(scratch, fill);  // edge padding
  Shape zero(chunk_shape.size(), 0);
  if (stored_dtype == values.dtype()) {
    CopyBox(values.bytes(), values.shape(), box.in_region, scratch, chunk_shape, zero, box.extent,
            ItemSize(stored_dtype));
    return scratch;
  }
  std::size_t elements = Elements(box.extent);
  Bytes part, cast(elements * ItemSize(stored_dtype));
  std::span<const std::byte> source = values.bytes();
  if (box.contiguous_at) {
    source = source.subspan(*box.contiguous_at * item, elements * item);
  } else {
    part.resize(elements * item);
    CopyBox(values.bytes(), values.shape(), box.in_region, part, box.extent, zero, box.extent,
            item);
    source = part;
  }
  CastElements(values.dtype(), source, stored_dtype, cast, elements);
  if (box.extent == chunk_shape) return scratch = std::move(cast);
  CopyBox(cast, box.extent, zero, scratch, chunk_shape, zero, box.extent, ItemSize(stored_dtype));
  return scratch;
}

}  // namespace stowage::array_io
