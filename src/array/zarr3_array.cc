#include "array/zarr3_array.h"

#include <cstring>

#include "array/box_copy.h"
#include "array/chunk_grid.h"
#include "array/chunk_io.h"
#include "array/chunk_shape.h"
#include "base/bytes.h"
#include "zarr/zarr3_chunk_key.h"
#include "zarr/zarr3_codec.h"
#include "zarr/zarr3_fill_value.h"

namespace stowage::array_io {
namespace {

using json = nlohmann::json;
constexpr std::string_view kMetadataKey = "zarr.json";

std::string ChunkKeyOf(std::string_view prefix, const zarr::Zarr3Metadata& m, const ChunkBox& box) {
  return JoinKey(prefix, zarr::Zarr3ChunkKey(m.chunk_key_encoding, box.grid_index));
}

// The full outer chunk `box` selects from `array`, in the stored dtype, with
// the part beyond the array's edge set to the fill value. Returns a view of
// the array itself when no copy is needed.
std::span<const std::byte> GatherChunk(const Array& array, const ChunkBox& box,
                                       const zarr::Zarr3Metadata& m, Bytes& scratch) {
  if (box.is_whole_array && m.dtype == array.dtype()) return array.bytes();
  std::size_t elements = static_cast<std::size_t>(m.chunk_elements());
  scratch.resize(elements * ItemSize(m.dtype));
  FillWith(scratch, m.fill_value);
  Shape zero(box.origin.size(), 0);
  if (m.dtype == array.dtype()) {
    CopyBox(array.bytes(), array.shape(), box.origin, scratch, m.chunk_shape, zero, box.extent,
            ItemSize(m.dtype));
    return scratch;
  }
  std::size_t box_elements = static_cast<std::size_t>(NumElements(box.extent).value());
  Bytes part(box_elements * ItemSize(array.dtype())), cast(box_elements * ItemSize(m.dtype));
  CopyBox(array.bytes(), array.shape(), box.origin, part, box.extent, zero, box.extent,
          ItemSize(array.dtype()));
  CastElements(array.dtype(), part, m.dtype, cast, box_elements);
  CopyBox(cast, box.extent, zero, scratch, m.chunk_shape, zero, box.extent, ItemSize(m.dtype));
  return scratch;
}

Status WriteChunk(kvstore::Store& store, std::string_view prefix, const zarr::Zarr3Metadata& m,
                  const Array& array, const ChunkBox& box, bool store_fill) {
  Bytes scratch;
  auto chunk = GatherChunk(array, box, m, scratch);
  zarr::Zarr3ChunkSpec spec{m.dtype, m.chunk_shape, m.fill_value};
  STOWAGE_ASSIGN_OR_RETURN(auto encoded, zarr::EncodeZarr3Chunk(m.codecs, spec, chunk, store_fill));
  std::string key = ChunkKeyOf(prefix, m, box);
  if (!encoded) return store.Delete(key);  // nothing to store, as TensorStore does
  return store.Write(key, *encoded);
}

}  // namespace

Result<Zarr3WriteSpec> OrbaxZarr3WriteSpec(std::span<const std::int64_t> global_shape,
                                           std::span<const std::int64_t> write_shape, DType dtype,
                                           std::optional<std::int64_t> chunk_byte_size,
                                           std::span<const int> shard_axes, bool use_compression) {
  STOWAGE_ASSIGN_OR_RETURN(
      Shape chunk, ChooseChunkShape(global_shape, write_shape, dtype, chunk_byte_size, shard_axes));
  json little = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
  json inner = json::array({little});
  if (use_compression) inner.push_back({{"name", "zstd"}});
  json sharding = {{"name", "sharding_indexed"},
                   {"configuration",
                    {{"chunk_shape", chunk},
                     {"codecs", inner},
                     {"index_codecs", json::array({little, {{"name", "crc32c"}}})},
                     {"index_location", "end"}}}};
  Zarr3WriteSpec spec;
  spec.chunks = chunk;
  spec.codecs = json::array({sharding});
  return spec;
}

Result<zarr::Zarr3Metadata> MakeZarr3Metadata(const Shape& shape, DType dtype,
                                              const Zarr3WriteSpec& spec,
                                              const zarr::Limits& limits) {
  zarr::Zarr3Metadata m;
  m.shape = shape;
  m.chunk_shape = spec.chunks;
  m.dtype = spec.dtype.value_or(dtype);
  m.chunk_key_encoding = spec.chunk_key_encoding;
  m.dimension_names = spec.dimension_names;
  m.attributes = spec.attributes;
  const std::string where = "zarr3 write spec";
  if (m.chunk_shape.size() != m.shape.size()) {
    return InvalidArgumentError(where + ": chunk shape " + ShapeToString(m.chunk_shape) +
                                " does not match array rank " + std::to_string(m.shape.size()));
  }
  for (auto c : m.chunk_shape) {
    if (c <= 0) return InvalidArgumentError(where + ": chunk sizes must be positive");
  }
  if (spec.fill_value.is_null()) {
    m.fill_value.assign(ItemSize(m.dtype), std::byte{0});
  } else {
    auto fill = zarr::ParseZarr3FillValue(spec.fill_value, m.dtype, where);
    if (!fill.has_value()) return InvalidArgumentError(fill.error().message());
    m.fill_value = std::move(*fill);
  }
  STOWAGE_ASSIGN_OR_RETURN(m.codecs, zarr::ParseCodecChain(spec.codecs, m.dtype, m.shape.size(),
                                                           {.stored = false, .where = where}));
  if (!m.dimension_names.is_null() &&
      !(m.dimension_names.is_array() && m.dimension_names.size() == m.shape.size())) {
    return InvalidArgumentError(where + ": dimension_names must list one name per dimension");
  }
  if (!m.attributes.is_null() && !m.attributes.is_object()) {
    return InvalidArgumentError(where + ": attributes must be an object");
  }
  STOWAGE_RETURN_IF_ERROR(zarr::ValidateZarr3Layout(m, where, limits, ErrorCode::kInvalidArgument));
  return m;
}

Future<void> WriteZarr3ArrayAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                  std::shared_ptr<const Array> array, Zarr3WriteSpec spec,
                                  IoOptions options) {
  auto made = MakeZarr3Metadata(array->shape(), array->dtype(), spec, options.limits);
  if (!made.has_value()) return Future<void>::Ready(made.error());
  auto m = std::make_shared<const zarr::Zarr3Metadata>(std::move(*made));
  bool store_fill = spec.store_data_equal_to_fill_value;
  auto write_metadata = [=]() -> Status {
    return store->Write(JoinKey(prefix, kMetadataKey), AsBytes(zarr::EncodeZarrJson(*m)),
                        {.atomic = true});
  };
  auto write_chunk = [=](const ChunkBox& box) -> Status {
    return WriteChunk(*store, prefix, *m, *array, box, store_fill);
  };
  return ForEachChunk(options, m->shape, m->chunk_shape, ItemSize(array->dtype()),
                      std::move(write_metadata), std::move(write_chunk));
}

Status WriteZarr3Array(std::shared_ptr<kvstore::Store> store, std::string prefix,
                       std::shared_ptr<const Array> array, Zarr3WriteSpec spec, IoOptions options) {
  return WriteZarr3ArrayAsync(std::move(store), std::move(prefix), std::move(array),
                              std::move(spec), std::move(options))
      .Wait();
}

Result<zarr::Zarr3Metadata> ReadZarr3Metadata(const kvstore::Store& store, std::string_view prefix,
                                              const zarr::Limits& limits) {
  std::string key = JoinKey(prefix, kMetadataKey);
  auto text = store.Read(key, {.max_bytes = 1 << 20});
  if (!text.has_value()) return text.error();
  return zarr::ParseZarrJson(*text, store.Describe(key), limits);
}

namespace {

// Reads outer chunk `box` into `out` (shaped like the array, in `out`'s
// dtype), decoding into `out` directly when the chunk is the whole array.
Status ReadChunk(const kvstore::Store& store, std::string_view prefix, const zarr::Zarr3Metadata& m,
                 const ChunkBox& box, bool fill_missing, Array& out) {
  std::string key = ChunkKeyOf(prefix, m, box);
  std::size_t elements = static_cast<std::size_t>(m.chunk_elements());
  zarr::Zarr3ChunkSpec spec{m.dtype, m.chunk_shape, m.fill_value};
  bool direct = box.is_whole_array && out.dtype() == m.dtype;
  Bytes decoded;
  std::span<std::byte> target = out.mutable_bytes();
  if (!direct) {
    decoded.resize(elements * ItemSize(m.dtype));
    target = decoded;
  }
  auto stored = store.Read(key, {.max_bytes = zarr::MaxStoredZarr3ChunkBytes(m.codecs, spec)});
  if (stored.has_value()) {
    STOWAGE_RETURN_IF_ERROR(
        zarr::DecodeZarr3Chunk(m.codecs, spec, *stored, target, store.Describe(key)));
  } else if (stored.error().code() == ErrorCode::kNotFound && fill_missing) {
    FillWith(target, m.fill_value);
  } else {
    return stored.error().WithContext("chunk " + key);
  }
  if (direct) return OkStatus();
  CopyChunkIntoArray(decoded, m.dtype, m.chunk_shape, box, out);
  return OkStatus();
}

}  // namespace

Result<Array> ReadZarr3Array(const kvstore::Store& store, std::string_view prefix,
                             const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(auto m, ReadZarr3Metadata(store, prefix, options.io.limits));
  std::string path = store.Describe(JoinKey(prefix, kMetadataKey));
  DType out_dtype = options.dtype.value_or(m.dtype);
  STOWAGE_ASSIGN_OR_RETURN(Array out,
                           AllocateReadTarget(m.shape, out_dtype, options.io.limits, path));
  std::string prefix_copy(prefix);
  auto read_chunk = [&](const ChunkBox& box) -> Status {
    return ReadChunk(store, prefix_copy, m, box, options.fill_missing, out);
  };
  STOWAGE_RETURN_IF_ERROR(
      ForEachChunk(options.io, m.shape, m.chunk_shape, ItemSize(out_dtype), nullptr, read_chunk)
          .Wait());
  return out;
}

}  // namespace stowage::array_io
