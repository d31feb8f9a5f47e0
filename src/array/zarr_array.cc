#include "array/zarr_array.h"

#include <cstring>

#include "array/box_copy.h"
#include "array/chunk_grid.h"
#include "array/chunk_io.h"
#include "base/bytes.h"
#include "zarr/chunk_codec.h"
#include "zarr/chunk_key.h"
#include "zarr/fill_value.h"

namespace stowage::array_io {
namespace {

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
  auto codec = zarr::ChunkCodec::Make(*m, store->Describe(JoinKey(prefix, ".zarray")));
  if (!codec.has_value()) return Future<void>::Ready(codec.error());
  auto shared_codec = std::make_shared<zarr::ChunkCodec>(std::move(*codec));
  auto write_metadata = [=]() -> Status {
    return store->Write(JoinKey(prefix, ".zarray"), AsBytes(zarr::EncodeZarray(*m)),
                        {.atomic = true});
  };
  auto write_chunk = [=](const ChunkBox& box) -> Status {
    Bytes scratch, cast_scratch;
    auto chunk = GatherChunk(*array, box, *m, scratch, cast_scratch);
    std::string key = JoinKey(prefix, zarr::ChunkKey(box.grid_index, m->dimension_separator));
    if (shared_codec->is_identity()) {
      STOWAGE_RETURN_IF_ERROR(store->Write(key, chunk));  // no copy of raw chunks
    } else {
      STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, shared_codec->Encode(chunk));
      STOWAGE_RETURN_IF_ERROR(store->Write(key, encoded));
    }
    return OkStatus();
  };
  return ForEachChunk(options, m->shape, m->chunks, ItemSize(array->dtype()),
                      std::move(write_metadata), std::move(write_chunk));
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
  std::string key = JoinKey(prefix, ".zarray");
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
  std::string key = JoinKey(prefix, zarr::ChunkKey(box.grid_index, m.dimension_separator));
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
  CopyChunkIntoArray(decoded, m.dtype.dtype, m.chunks, box, out);
  return OkStatus();
}

}  // namespace

Result<Array> ReadZarrArray(const kvstore::Store& store, std::string_view prefix,
                            const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(auto m, ReadZarrayMetadata(store, prefix, options.io.limits));
  std::string zarray_path = store.Describe(JoinKey(prefix, ".zarray"));
  STOWAGE_ASSIGN_OR_RETURN(auto codec, zarr::ChunkCodec::Make(m, zarray_path));
  STOWAGE_ASSIGN_OR_RETURN(Bytes fill,
                           zarr::FillValueBytes(m.fill_value, m.dtype.dtype, zarray_path));
  DType out_dtype = options.dtype.value_or(m.dtype.dtype);
  STOWAGE_ASSIGN_OR_RETURN(Array out,
                           AllocateReadTarget(m.shape, out_dtype, options.io.limits, zarray_path));
  std::string prefix_copy(prefix);
  auto read_chunk = [&](const ChunkBox& box) -> Status {
    return ReadChunk(store, prefix_copy, m, codec, box, fill, options.fill_missing, out);
  };
  STOWAGE_RETURN_IF_ERROR(
      ForEachChunk(options.io, m.shape, m.chunks, ItemSize(out_dtype), nullptr, read_chunk).Wait());
  return out;
}

}  // namespace stowage::array_io
