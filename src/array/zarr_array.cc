#include "array/zarr_array.h"

#include <cstring>
#include <optional>

#include "array/box_copy.h"
#include "array/chunk_grid.h"
#include "array/chunk_io.h"
#include "base/bytes.h"
#include "zarr/chunk_codec.h"
#include "zarr/chunk_key.h"
#include "zarr/fill_value.h"

namespace stowage::array_io {
namespace {

constexpr std::string_view kMetadataKey = ".zarray";

std::string ArrayName(const kvstore::Store& store, std::string_view prefix) {
  return "zarr array " + store.Describe(prefix);
}

// Checks what the region writer relies on in caller-built metadata.
Status CheckWritable(const zarr::ZarrayMetadata& m, std::string_view where) {
  if (m.chunks.size() != m.shape.size()) {
    return InvalidArgumentError(std::string(where) + ": chunk shape " + ShapeToString(m.chunks) +
                                " does not match array rank " + std::to_string(m.shape.size()));
  }
  for (auto c : m.chunks) {
    if (c <= 0) {
      return InvalidArgumentError(std::string(where) + ": chunk sizes must be positive");
    }
  }
  if (!NumBytes(m.shape, m.dtype.dtype).has_value() ||
      !NumBytes(m.chunks, m.dtype.dtype).has_value()) {
    return InvalidArgumentError(std::string(where) + ": shape " + ShapeToString(m.shape) +
                                " or chunk shape " + ShapeToString(m.chunks) + " is invalid");
  }
  return OkStatus();
}

}  // namespace

Result<zarr::ZarrayMetadata> MakeZarrayMetadata(const Shape& shape, DType dtype,
                                                const ZarrWriteSpec& spec) {
  zarr::ZarrayMetadata m;
  m.shape = shape;
  m.chunks = spec.chunks;
  m.dtype = {spec.dtype.value_or(dtype), false};
  m.compressor = spec.compressor;
  STOWAGE_RETURN_IF_ERROR(CheckWritable(m, "zarr write spec"));
  return m;
}

Future<void> WriteZarrRegionAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                  zarr::ZarrayMetadata metadata,
                                  std::shared_ptr<const Array> values, Shape origin,
                                  RegionWriteOptions options) {
  std::string where = ArrayName(*store, prefix);
  Region region{std::move(origin), values->shape()};
  Status valid = CheckWritable(metadata, where);
  if (valid.has_value()) valid = CheckRegionInside(metadata.shape, region, where);
  if (valid.has_value()) valid = CheckRegionAligned(metadata.shape, metadata.chunks, region, where);
  if (!valid.has_value()) return Future<void>::Ready(valid.error());
  auto m = std::make_shared<const zarr::ZarrayMetadata>(std::move(metadata));
  auto codec = zarr::ChunkCodec::Make(*m, store->Describe(JoinKey(prefix, kMetadataKey)));
  if (!codec.has_value()) return Future<void>::Ready(codec.error());
  auto shared_codec = std::make_shared<zarr::ChunkCodec>(std::move(*codec));
  std::function<Status()> write_metadata;
  if (options.write_metadata) {
    write_metadata = [=]() -> Status {
      return store->Write(JoinKey(prefix, kMetadataKey), AsBytes(zarr::EncodeZarray(*m)),
                          {.atomic = true});
    };
  }
  Bytes zero(ItemSize(m->dtype.dtype), std::byte{0});  // edge padding is zero
  auto write_chunk = [=](const ChunkBox& box) -> Status {
    Bytes scratch;
    auto chunk = GatherChunk(*values, box, m->chunks, m->dtype.dtype, zero, scratch);
    std::string key = JoinKey(prefix, zarr::ChunkKey(box.grid_index, m->dimension_separator));
    if (shared_codec->is_identity()) {
      STOWAGE_RETURN_IF_ERROR(store->Write(key, chunk));  // no copy of raw chunks
    } else {
      STOWAGE_ASSIGN_OR_RETURN(Bytes encoded, shared_codec->Encode(chunk));
      STOWAGE_RETURN_IF_ERROR(store->Write(key, encoded));
    }
    return OkStatus();
  };
  return ForEachChunk(options.io, m->shape, m->chunks, region, ItemSize(values->dtype()),
                      std::move(write_metadata), std::move(write_chunk));
}

Status WriteZarrRegion(std::shared_ptr<kvstore::Store> store, std::string prefix,
                       zarr::ZarrayMetadata metadata, std::shared_ptr<const Array> values,
                       Shape origin, RegionWriteOptions options) {
  return WriteZarrRegionAsync(std::move(store), std::move(prefix), std::move(metadata),
                              std::move(values), std::move(origin), std::move(options))
      .Wait();
}

Future<void> WriteZarrArrayAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                 std::shared_ptr<const Array> array, ZarrWriteSpec spec,
                                 IoOptions options) {
  auto m = MakeZarrayMetadata(array->shape(), array->dtype(), spec);
  if (!m.has_value()) return Future<void>::Ready(m.error());
  Shape origin(array->shape().size(), 0);
  return WriteZarrRegionAsync(std::move(store), std::move(prefix), std::move(*m), std::move(array),
                              std::move(origin),
                              {.write_metadata = true, .io = std::move(options)});
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
  std::string key = JoinKey(prefix, kMetadataKey);
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

// An opened array: its metadata and what decoding its chunks needs.
struct OpenArray {
  zarr::ZarrayMetadata m;
  std::optional<zarr::ChunkCodec> codec;
  Bytes fill;
  std::string path;  // of the `.zarray`
};

// Reads the metadata. With a region, the whole array may exceed the limits
// (only the region and one chunk per worker are held) and the region must
// lie inside it; without one, the region is the whole array.
Result<OpenArray> Open(const kvstore::Store& store, std::string_view prefix,
                       const std::optional<Region>& region, const zarr::Limits& limits) {
  OpenArray a;
  a.path = store.Describe(JoinKey(prefix, kMetadataKey));
  if (region) {
    STOWAGE_ASSIGN_OR_RETURN(a.m, ReadZarrayMetadata(store, prefix, WithoutArrayBound(limits)));
    STOWAGE_RETURN_IF_ERROR(CheckChunkBytes(a.m.chunks, a.m.dtype.dtype, limits, a.path));
    STOWAGE_RETURN_IF_ERROR(CheckRegionInside(a.m.shape, *region, ArrayName(store, prefix)));
  } else {
    STOWAGE_ASSIGN_OR_RETURN(a.m, ReadZarrayMetadata(store, prefix, limits));
  }
  STOWAGE_ASSIGN_OR_RETURN(auto codec, zarr::ChunkCodec::Make(a.m, a.path));
  a.codec.emplace(std::move(codec));
  STOWAGE_ASSIGN_OR_RETURN(a.fill, zarr::FillValueBytes(a.m.fill_value, a.m.dtype.dtype, a.path));
  return a;
}

// Reads the chunks of `a` overlapping `region` into `target`.
Status ReadInto(const kvstore::Store& store, std::string_view prefix, const OpenArray& a,
                const Region& region, const ReadTarget& target, const ZarrReadOptions& options) {
  const zarr::ChunkCodec& codec = *a.codec;
  auto decode = [&](const ChunkBox& box, std::span<std::byte> out) -> Status {
    std::string key = JoinKey(prefix, zarr::ChunkKey(box.grid_index, a.m.dimension_separator));
    Status read = codec.is_identity() ? store.ReadInto(key, out)  // straight into place
                                      : ReadAndDecode(store, key, codec, out);
    if (read.has_value()) return OkStatus();
    if (read.error().code() != ErrorCode::kNotFound || !options.fill_missing) {
      return read.error().WithContext("chunk " + key);
    }
    FillWith(out, a.fill);
    return OkStatus();
  };
  return ReadRegionChunks(options.io, a.m.shape, a.m.chunks, a.m.dtype.dtype, region, target,
                          decode);
}

Result<Array> ReadRegion(const kvstore::Store& store, std::string_view prefix,
                         const std::optional<Region>& region, const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(OpenArray a, Open(store, prefix, region, options.io.limits));
  Region box = region.value_or(WholeArray(a.m.shape));
  DType out_dtype = options.dtype.value_or(a.m.dtype.dtype);
  STOWAGE_ASSIGN_OR_RETURN(Array out,
                           AllocateReadTarget(box.shape, out_dtype, options.io.limits, a.path));
  STOWAGE_RETURN_IF_ERROR(
      ReadInto(store, prefix, a, box, {out.mutable_bytes(), box.shape, out_dtype}, options));
  return out;
}

}  // namespace

Result<Array> ReadZarrArray(const kvstore::Store& store, std::string_view prefix,
                            const ZarrReadOptions& options) {
  return ReadRegion(store, prefix, std::nullopt, options);
}

Result<Array> ReadZarrRegion(const kvstore::Store& store, std::string_view prefix,
                             const Region& region, const ZarrReadOptions& options) {
  return ReadRegion(store, prefix, region, options);
}

Status ReadZarrRegionInto(const kvstore::Store& store, std::string_view prefix,
                          const Region& region, std::span<std::byte> out,
                          const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(OpenArray a, Open(store, prefix, region, options.io.limits));
  STOWAGE_ASSIGN_OR_RETURN(
      ReadTarget target, MakeReadTarget(out, region.shape, options.dtype.value_or(a.m.dtype.dtype),
                                        ArrayName(store, prefix)));
  return ReadInto(store, prefix, a, region, target, options);
}

}  // namespace stowage::array_io
