#include "array/zarr3_array.h"

#include <cstring>
#include <optional>

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

std::string ArrayName(const kvstore::Store& store, std::string_view prefix) {
  return "zarr3 array " + store.Describe(prefix);
}

// OK when one outer chunk of `m` (and its shard index, if any) fits `limits`
// regardless of the whole array's size. Errors as zarr::ValidateZarr3Layout.
Status CheckChunkLimits(const zarr::Zarr3Metadata& m, std::string_view where,
                        const zarr::Limits& limits, ErrorCode bad) {
  zarr::Zarr3Metadata one_chunk = m;
  one_chunk.shape = m.chunk_shape;
  return zarr::ValidateZarr3Layout(one_chunk, where, limits, bad);
}

Status WriteChunk(kvstore::Store& store, std::string_view prefix, const zarr::Zarr3Metadata& m,
                  const Array& values, const ChunkBox& box, bool store_fill) {
  Bytes scratch;
  auto chunk = GatherChunk(values, box, m.chunk_shape, m.dtype, m.fill_value, scratch);
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
                                           std::span<const int> shard_axes, bool use_compression,
                                           bool zstd_checksum) {
  STOWAGE_ASSIGN_OR_RETURN(
      Shape chunk, ChooseChunkShape(global_shape, write_shape, dtype, chunk_byte_size, shard_axes));
  json little = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
  json inner = json::array({little});
  if (use_compression) {
    inner.push_back({{"name", "zstd"}, {"configuration", {{"checksum", zstd_checksum}}}});
  }
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

Future<void> WriteZarr3RegionAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                   Shape global_shape, Zarr3WriteSpec spec,
                                   std::shared_ptr<const Array> values, Shape origin,
                                   RegionWriteOptions options) {
  // The whole array need not fit in memory: only one outer chunk per worker.
  auto made =
      MakeZarr3Metadata(global_shape, values->dtype(), spec, WithoutArrayBound(options.io.limits));
  if (!made.has_value()) return Future<void>::Ready(made.error());
  auto m = std::make_shared<const zarr::Zarr3Metadata>(std::move(*made));
  std::string where = ArrayName(*store, prefix);
  Region region{std::move(origin), values->shape()};
  Status valid =
      CheckChunkLimits(*m, "zarr3 write spec", options.io.limits, ErrorCode::kInvalidArgument);
  if (valid.has_value()) valid = CheckRegionInside(m->shape, region, where);
  if (valid.has_value()) valid = CheckRegionAligned(m->shape, m->chunk_shape, region, where);
  if (!valid.has_value()) return Future<void>::Ready(valid.error());
  bool store_fill = spec.store_data_equal_to_fill_value;
  std::function<Status()> write_metadata;
  if (options.write_metadata) {
    write_metadata = [=]() -> Status {
      return store->Write(JoinKey(prefix, kMetadataKey), AsBytes(zarr::EncodeZarrJson(*m)),
                          {.atomic = true});
    };
  }
  auto write_chunk = [=](const ChunkBox& box) -> Status {
    return WriteChunk(*store, prefix, *m, *values, box, store_fill);
  };
  return ForEachChunk(options.io, m->shape, m->chunk_shape, region, ItemSize(values->dtype()),
                      std::move(write_metadata), std::move(write_chunk));
}

Status WriteZarr3Region(std::shared_ptr<kvstore::Store> store, std::string prefix,
                        Shape global_shape, Zarr3WriteSpec spec,
                        std::shared_ptr<const Array> values, Shape origin,
                        RegionWriteOptions options) {
  return WriteZarr3RegionAsync(std::move(store), std::move(prefix), std::move(global_shape),
                               std::move(spec), std::move(values), std::move(origin),
                               std::move(options))
      .Wait();
}

Future<void> WriteZarr3ArrayAsync(std::shared_ptr<kvstore::Store> store, std::string prefix,
                                  std::shared_ptr<const Array> array, Zarr3WriteSpec spec,
                                  IoOptions options) {
  Shape shape = array->shape();
  Shape origin(shape.size(), 0);
  return WriteZarr3RegionAsync(std::move(store), std::move(prefix), std::move(shape),
                               std::move(spec), std::move(array), std::move(origin),
                               {.write_metadata = true, .io = std::move(options)});
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

// An opened array: its metadata and where it is.
struct OpenArray {
  zarr::Zarr3Metadata m;
  std::string path;  // of the zarr.json
};

// Reads the metadata. With a region, the whole array may exceed the limits
// (only the region and one outer chunk per worker are held) and the region
// must lie inside it; without one, the region is the whole array.
Result<OpenArray> Open(const kvstore::Store& store, std::string_view prefix,
                       const std::optional<Region>& region, const zarr::Limits& limits) {
  OpenArray a;
  a.path = store.Describe(JoinKey(prefix, kMetadataKey));
  if (region) {
    STOWAGE_ASSIGN_OR_RETURN(a.m, ReadZarr3Metadata(store, prefix, WithoutArrayBound(limits)));
    STOWAGE_RETURN_IF_ERROR(CheckChunkLimits(a.m, a.path, limits, ErrorCode::kDataLoss));
    STOWAGE_RETURN_IF_ERROR(CheckRegionInside(a.m.shape, *region, ArrayName(store, prefix)));
  } else {
    STOWAGE_ASSIGN_OR_RETURN(a.m, ReadZarr3Metadata(store, prefix, limits));
  }
  return a;
}

// Reads the outer chunks of `a` overlapping `region` into `target`.
Status ReadInto(const kvstore::Store& store, std::string_view prefix, const OpenArray& a,
                const Region& region, const ReadTarget& target, const ZarrReadOptions& options) {
  const zarr::Zarr3Metadata& m = a.m;
  zarr::Zarr3ChunkSpec spec{m.dtype, m.chunk_shape, m.fill_value};
  std::uint64_t max_stored = zarr::MaxStoredZarr3ChunkBytes(m.codecs, spec);
  auto decode = [&](const ChunkBox& box, std::span<std::byte> out) -> Status {
    std::string key = ChunkKeyOf(prefix, m, box);
    auto stored = store.Read(key, {.max_bytes = max_stored});
    if (stored.has_value()) {
      return zarr::DecodeZarr3Chunk(m.codecs, spec, *stored, out, store.Describe(key));
    }
    if (stored.error().code() != ErrorCode::kNotFound || !options.fill_missing) {
      return stored.error().WithContext("chunk " + key);
    }
    FillWith(out, m.fill_value);
    return OkStatus();
  };
  return ReadRegionChunks(options.io, m.shape, m.chunk_shape, m.dtype, region, target, decode);
}

Result<Array> ReadRegion(const kvstore::Store& store, std::string_view prefix,
                         const std::optional<Region>& region, const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(OpenArray a, Open(store, prefix, region, options.io.limits));
  Region box = region.value_or(WholeArray(a.m.shape));
  DType out_dtype = options.dtype.value_or(a.m.dtype);
  STOWAGE_ASSIGN_OR_RETURN(Array out,
                           AllocateReadTarget(box.shape, out_dtype, options.io.limits, a.path));
  STOWAGE_RETURN_IF_ERROR(
      ReadInto(store, prefix, a, box, {out.mutable_bytes(), box.shape, out_dtype}, options));
  return out;
}

}  // namespace

Result<Array> ReadZarr3Array(const kvstore::Store& store, std::string_view prefix,
                             const ZarrReadOptions& options) {
  return ReadRegion(store, prefix, std::nullopt, options);
}

Result<Array> ReadZarr3Region(const kvstore::Store& store, std::string_view prefix,
                              const Region& region, const ZarrReadOptions& options) {
  return ReadRegion(store, prefix, region, options);
}

Status ReadZarr3RegionInto(const kvstore::Store& store, std::string_view prefix,
                           const Region& region, std::span<std::byte> out,
                           const ZarrReadOptions& options) {
  STOWAGE_ASSIGN_OR_RETURN(OpenArray a, Open(store, prefix, region, options.io.limits));
  STOWAGE_ASSIGN_OR_RETURN(ReadTarget target,
                           MakeReadTarget(out, region.shape, options.dtype.value_or(a.m.dtype),
                                          ArrayName(store, prefix)));
  return ReadInto(store, prefix, a, region, target, options);
}

}  // namespace stowage::array_io
