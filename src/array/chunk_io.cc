#include "array/chunk_io.h"

#include "array/box_copy.h"
#include "array/parallel_for.h"
#include "base/bytes.h"
#include "base/thread_pool.h"

namespace stowage::array_io {
namespace {

ThreadPool& PoolOf(const IoOptions& options) {
  return options.pool ? *options.pool : ThreadPool::Default();
}

}  // namespace

std::string JoinKey(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "/" + std::string(key);
}

Future<void> ForEachChunk(const IoOptions& options, const Shape& shape, const Shape& chunk_shape,
                          std::size_t item_size, std::function<Status()> write_metadata,
                          std::function<Status(const ChunkBox&)> process) {
  Shape grid = GridShape(shape, chunk_shape);
  std::int64_t chunks = NumElements(grid).value();
  std::int64_t first_chunk = write_metadata ? 1 : 0;  // task 0 writes the metadata
  auto task = [=, progress = options.progress](std::int64_t i) -> Status {
    if (i < first_chunk) return write_metadata();
    ChunkBox box = ChunkAt(i - first_chunk, shape, chunk_shape, grid);
    STOWAGE_RETURN_IF_ERROR(process(box));
    if (progress) progress(NumElements(box.extent).value() * item_size);
    return OkStatus();
  };
  return ParallelFor(PoolOf(options), first_chunk + chunks, std::move(task));
}

Result<Array> AllocateReadTarget(const Shape& shape, DType dtype, const zarr::Limits& limits,
                                 std::string_view path) {
  STOWAGE_ASSIGN_OR_RETURN(std::size_t bytes, NumBytes(shape, dtype));
  if (bytes > zarr::MaxBytes(limits)) {
    return ResourceExhaustedError(std::string(path) + ": restoring as " +
                                  std::string(DTypeName(dtype)) + " needs " +
                                  std::to_string(bytes) + " bytes, over the limit");
  }
  return Array::Uninitialized(dtype, shape);
}

void CopyChunkIntoArray(std::span<const std::byte> decoded, DType stored_dtype,
                        const Shape& chunk_shape, const ChunkBox& box, Array& out) {
  std::size_t elements = static_cast<std::size_t>(NumElements(chunk_shape).value());
  std::span<const std::byte> source = decoded;
  Bytes cast;
  if (out.dtype() != stored_dtype) {
    cast.resize(elements * ItemSize(out.dtype()));
    CastElements(stored_dtype, decoded, out.dtype(), cast, elements);
    source = cast;
  }
  Shape zero(box.origin.size(), 0);
  CopyBox(source, chunk_shape, zero, out.mutable_bytes(), out.shape(), box.origin, box.extent,
          ItemSize(out.dtype()));
}

}  // namespace stowage::array_io
