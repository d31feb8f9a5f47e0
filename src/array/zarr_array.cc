#include "array/zarr_array.h"

#include <cstring>

#include "array/box_copy.h"
#include "array/parallel_for.h"
#include "base/bytes.h"
#include "zarr/chunk_codec.h"
#include "zarr/chunk_key.h"
#include "zarr/fill_value.h"

namespace stowage::array_io {
namespace {

// Where chunk number `linear` (C order over the chunk grid) sits.
struct ChunkBox {
  Shape grid_index, origin, extent;
  bool is_whole_array = false;  // the chunk covers the array exactly
};

ChunkBox ChunkAt(std::int64_t linear, const zarr::ZarrayMetadata& m, const Shape& grid) {
  std::size_t rank = m.shape.size();
  ChunkBox box{Shape(rank), Shape(rank), Shape(rank)};
  for (std::size_t k = rank; k-- > 0;) {
    box.grid_index[k] = linear % grid[k];
    linear /= grid[k];
    box.origin[k] = box.grid_index[k] * m.chunks[k];
    box.extent[k] = std::min(m.chunks[k], m.shape[k] - box.origin[k]);
  }
  box.is_whole_array = m.chunks == m.shape;
  return box;
}

std::string Join(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "/" + std::string(key);
}

ThreadPool& PoolOf(const IoOptions& options) {
  return options.pool ? *options.pool : ThreadPool::Default();
}

// Builds the chunk that `box` selects from `array` in the stored dtype.
// Returns a view of the array itself when no copy is needed.
std::span<const std::byte> GatherChunk(const Array& array, const ChunkBox& box,
                                       const zarr::ZarrayMetadata& m, Bytes& scratch,
                                       Bytes& cast_scratch) {
  std::span<const std::byte> chunk = array.bytes();
  std::size_t item = ItemSize(array.dtype());
  std::size_t elements = static_cast<std::size_t>(m.chunk_elements());
  if (!box.is_whole_array) {
    scratch.assign(elements * item, std::byte{0});  // edge padding is zero
    Shape zero(box.origin.size(), 0);
    CopyBox(array.bytes(), array.shape(), box.origin, scratch, m.chunks, zero, box.extent, item);
    chunk = scratch;
  }
  if (m.dtype.dtype != array.dtype()) {
    cast_scratch.resize(elements * ItemSize(m.dtype.dtype));
    CastElements(array.dtype(), chunk, m.dtype.dtype, cast_scratch, elements);
    chunk = cast_scratch;
  }
  return chunk;
}

}  // namespace

Future<void> WriteZarrArrayAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                 std::shared_ptr<const Array> array, ZarrWriteSpec spec,
                                 IoOptions options) {
  auto m = std::make_shared<zarr::ZarrayMetadata>();
  m->shape = array->shape();
  m->chunks = spec.chunks;
  m->dtype = {spec.dtype.value_or(array->dtype()), false};
  m->compressor = spec.compressor;
  if (m->chunks.size() != m->shape.size()) {
    return Future<void>::Ready(InvalidArgumentError("chunk shape " + ShapeToString(m->chunks) +
                                                    " does not match array rank " +
                                                    std::to_string(m->shape.size())));
  }
  for (auto c : m->chunks) {
    if (c <= 0) return Future<void>::Ready(InvalidArgumentError("chunk sizes must be positive"));
  }
  auto codec = zarr::ChunkCodec::Make(*m, store->Describe(Join(prefix, ".zarray")));
  if (!codec.has_value()) return Future<void>::Ready(codec.error());
  auto shared_codec = std::make_shared<zarr::ChunkCodec>(std::move(*codec));
  Shape grid = m->grid_shape();
  std::int64_t chunks = NumElements(grid).value();
  // Task 0 writes `.zarray`; tasks 1..chunks write one chunk each.
  auto task = [=](std::int64_t i) -> Status {
    if (i == 0) {
      return store->Write(Join(prefix, ".zarray"), AsBytes(zarr::EncodeZarray(*m)),
                          {.atomic = true});
    }
    ChunkBox box = ChunkAt(i - 1, *m, grid);
    Bytes scratch, cast_scratch;
    auto chunk = GatherChunk(*array, box, *m, scratch, cast_scratch);
    std::string key = Join(prefix, zarr::ChunkKey(box.grid_index, m->dimension_separator));
    if (shared_codec->is_identity()) {
      STOWAGE_RETURN_IF_ERROR(store->Write(key, chunk));  // no copy of raw chunks
    } else {
      STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, shared_codec->Encode(chunk));
      STOWAGE_RETURN_IF_ERROR(store->Write(key, encoded));
    }
    if (options.progress) {
      options.progress(NumElements(box.extent).value() * ItemSize(array->dtype()));
    }
    return OkStatus();
  };
  return ParallelFor(PoolOf(options), chunks + 1, std::move(task));
}

Status WriteZarrArray(std::shared_ptr<kvstore::Store> store, std::string prefix,
                      std::shared_ptr<const Array> array, ZarrWriteSpec spec, IoOptions options) {
  return WriteZarrArrayAsync(std::move(store), std::move(prefix), std::move(array), std::move(spec),
                             std::move(options))
      .Wait();
}

Result<zarr::ZarrayMetadata> ReadZarrayMetadata(const kvstore::Store& store,
                                                std::string_view prefix,
                                                const zarr::Limits& limits) {
  std::string key = Join(prefix, ".zarray");
  auto text = store.Read(key, {.max_bytes = 1 << 20});
  if (!text.has_value()) return text.error();
  return zarr::ParseZarray(*text, store.Describe(key), limits);
}

namespace {

Status ReadAndDecode(const kvstore::Store& store, const std::string& key,
                     const zarr::ChunkCodec& codec, std::span<std::byte> target) {
  // Compressed chunks may expand slightly; anything much larger is corrupt.
  std::uint64_t max_stored = codec.chunk_bytes() + codec.chunk_bytes() / 8 + 4096;
  STOWAGE_ASSIGN_OR_RETURN(Bytes stored, store.Read(key, {.max_bytes = max_stored}));
  return codec.DecodeInto(stored, target, store.Describe(key));
}

// Reads chunk `box` into `out` (already shaped like the array, in `out`'s
// dtype), decoding into `out` directly when the chunk is the whole array.
Status ReadChunk(const kvstore::Store& store, std::string_view prefix,
                 const zarr::ZarrayMetadata& m, const zarr::ChunkCodec& codec, const ChunkBox& box,
                 const Bytes& fill, bool fill_missing, Array& out) {
  std::string key = Join(prefix, zarr::ChunkKey(box.grid_index, m.dimension_separator));
  std::size_t stored_item = ItemSize(m.dtype.dtype);
  std::size_t elements = static_cast<std::size_t>(m.chunk_elements());
  Bytes decoded;
  bool direct = box.is_whole_array && out.dtype() == m.dtype.dtype;
  std::span<std::byte> target = direct ? out.mutable_bytes() : std::span<std::byte>();
  if (!direct) {
    decoded.resize(elements * stored_item);
    target = decoded;
  }
  Status read = codec.is_identity() ? store.ReadInto(key, target)  // straight into place
                                    : ReadAndDecode(store, key, codec, target);
  if (!read.has_value()) {
    if (read.error().code() != ErrorCode::kNotFound || !fill_missing) {
      return read.error().WithContext("chunk " + std::string(key));
    }
    FillWith(target, fill);
  }
  if (direct) return OkStatus();
  std::span<const std::byte> source = decoded;
  Bytes cast;
  if (out.dtype() != m.dtype.dtype) {
    cast.resize(elements * ItemSize(out.dtype()));
    CastElements(m.dtype.dtype, decoded, out.dtype(), cast, elements);
    source = cast;
  }
  Shape zero(box.origin.size(), 0);
  CopyBox(source, m.chunks, zero, out.mutable_bytes(), out.shape(), box.origin, box.extent,
          ItemSize(out.dtype()));
  return OkStatus();
}

}  // namespace

Result<Array> ReadZarrArray(const kvstore::Store& store, std::string_view prefix,
                            const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(auto m, ReadZarrayMetadata(store, prefix, options.io.limits));
  std::string zarray_path = store.Describe(Join(prefix, ".zarray"));
  STOWAGE_ASSIGN_OR_RETURN(auto codec, zarr::ChunkCodec::Make(m, zarray_path));
  STOWAGE_ASSIGN_OR_RETURN(Bytes fill,
                           zarr::FillValueBytes(m.fill_value, m.dtype.dtype, zarray_path));
  DType out_dtype = options.dtype.value_or(m.dtype.dtype);
  STOWAGE_ASSIGN_OR_RETURN(std::size_t out_bytes, NumBytes(m.shape, out_dtype));
  if (out_bytes > zarr::MaxBytes(options.io.limits)) {
    return ResourceExhaustedError(zarray_path + ": restoring as " +
                                  std::string(DTypeName(out_dtype)) + " needs " +
                                  std::to_string(out_bytes) + " bytes, over the limit");
  }
  STOWAGE_ASSIGN_OR_RETURN(Array out, Array::Uninitialized(out_dtype, m.shape));
  Shape grid = m.grid_shape();
  std::int64_t chunks = NumElements(grid).value();
  std::string prefix_copy(prefix);
  auto task = [&](std::int64_t i) -> Status {
    ChunkBox box = ChunkAt(i, m, grid);
    STOWAGE_RETURN_IF_ERROR(
        ReadChunk(store, prefix_copy, m, codec, box, fill, options.fill_missing, out));
    if (options.io.progress) {
      options.io.progress(NumElements(box.extent).value() * ItemSize(out_dtype));
    }
    return OkStatus();
  };
  STOWAGE_RETURN_IF_ERROR(ParallelFor(PoolOf(options.io), chunks, task).Wait());
  return out;
}

}  // namespace stowage::array_io
