#include "tree/array_type_handlers.h"

#include "array/chunk_io.h"
#include "array/chunk_shape.h"
#include "base/python_json.h"

namespace stowage::tree {
namespace {

// TensorStore's zarr driver completes Orbax's {"id": "zstd"} with level 1.
// Its frames carry a content checksum (ZstdCompressor::FromJson).
nlohmann::json CompressorFor(bool use_compression) {
  if (!use_compression) return nullptr;
  return {{"id", "zstd"}, {"level", 1}};
}

// Owns the leaf's data: moves an owned Array, copies a view or scalar.
Result<std::shared_ptr<const Array>> Snapshot(Leaf leaf) {
  if (auto* array = std::get_if<Array>(&leaf)) {
    return std::make_shared<const Array>(std::move(*array));
  }
  if (auto* view = std::get_if<ArrayView>(&leaf)) {
    STOWAGE_ASSIGN_OR_RETURN(Array copy, Array::CopyOf(*view));
    return std::make_shared<const Array>(std::move(copy));
  }
  if (auto* scalar = std::get_if<Scalar>(&leaf)) {
    return std::make_shared<const Array>(scalar->array().Copy());
  }
  return InvalidArgumentError("string leaves are not arrays");
}

// Orbax's calculate_chunk_byte_size: with OCDBT no chunk outgrows a data
// file. `write_shape` is what this process writes.
std::optional<std::int64_t> ChunkByteSize(const ParamInfo& info, const Shape& write_shape,
                                          DType stored, std::optional<std::int64_t> requested) {
  std::int64_t cap = info.ocdbt_target_data_file_size;
  if (cap <= 0) return requested;
  if (requested) return std::min(*requested, cap);
  auto bytes = NumElements(write_shape).value_or(0) * static_cast<std::int64_t>(ItemSize(stored));
  return bytes > cap ? std::optional<std::int64_t>(cap) : std::nullopt;
}

// How an array leaf written whole by one process is chunked: Orbax's choice,
// except that a zarr v2 array saved without a chunk size which would be one
// chunk over `info.max_default_chunk_bytes` is cut into C-order slabs.
struct LeafChunking {
  std::optional<std::int64_t> chunk_bytes;  // what Orbax's chunking was given
  Shape chunks;
};

Result<LeafChunking> ChunkingOf(const ParamInfo& info, const Shape& shape, DType stored,
                                const SaveArgs& args) {
  LeafChunking c;
  c.chunk_bytes = ChunkByteSize(info, shape, stored, args.chunk_byte_size);
  auto chunks = array_io::ChooseChunkShape(shape, shape, stored, c.chunk_bytes, args.shard_axes);
  if (!chunks.has_value()) return chunks.error().WithContext("saving \"" + info.name + "\"");
  c.chunks = std::move(*chunks);
  std::int64_t cap = info.max_default_chunk_bytes;
  bool orbax_default = !args.chunk_byte_size && args.shard_axes.empty() && !info.use_zarr3;
  auto bytes = NumBytes(c.chunks, stored);
  if (orbax_default && cap > 0 && bytes.has_value() && *bytes > static_cast<std::uint64_t>(cap)) {
    c.chunks = array_io::SlabChunkShape(shape, stored, cap);
  }
  return c;
}

// Starts writing `leaf` as a zarr v2 or zarr3 array, chunked by ChunkingOf.
// The metadata records the write and chunk shapes.
Result<SerializedLeaf> WriteArrayLeaf(const ParamInfo& info, Leaf leaf, const SaveArgs& args) {
  STOWAGE_ASSIGN_OR_RETURN(auto snapshot, Snapshot(std::move(leaf)));
  DType stored = args.dtype.value_or(snapshot->dtype());
  STOWAGE_ASSIGN_OR_RETURN(LeafChunking chunking,
                           ChunkingOf(info, snapshot->shape(), stored, args));
  auto& chunk_bytes = chunking.chunk_bytes;
  SavedLeafMetadata metadata{snapshot->shape(), chunking.chunks, {}};
  if (info.use_zarr3) {
    auto spec =
        array_io::OrbaxZarr3WriteSpec(snapshot->shape(), snapshot->shape(), stored, chunk_bytes,
                                      args.shard_axes, info.use_compression, info.zstd_checksum);
    if (!spec.has_value()) return spec.error().WithContext("saving \"" + info.name + "\"");
    spec->dtype = args.dtype;
    return SerializedLeaf{array_io::WriteZarr3ArrayAsync(info.store, info.name, std::move(snapshot),
                                                         std::move(*spec), info.io),
                          std::move(metadata)};
  }
  array_io::ZarrWriteSpec spec{chunking.chunks, CompressorFor(info.use_compression), args.dtype};
  return SerializedLeaf{array_io::WriteZarrArrayAsync(info.store, info.name, std::move(snapshot),
                                                      std::move(spec), info.io),
                        std::move(metadata)};
}

SerializedLeaf NothingWritten() { return {Future<void>::Ready(OkStatus()), {}}; }

// What process 0 records for a host array it alone writes, so that every
// process's `array_metadatas/` lists the same params (Orbax validates it).
Result<SerializedLeaf> DescribeWithoutWriting(const ParamInfo& info, const Leaf& leaf,
                                              const SaveArgs& args) {
  ArrayView storage;
  const ArrayView* view = ArrayViewOf(leaf, storage);
  if (view == nullptr) return InvalidArgumentError("\"" + info.name + "\" is not an array");
  DType stored = args.dtype.value_or(view->dtype());
  STOWAGE_ASSIGN_OR_RETURN(LeafChunking chunking, ChunkingOf(info, view->shape(), stored, args));
  return SerializedLeaf{Future<void>::Ready(OkStatus()),
                        {view->shape(), std::move(chunking.chunks), SingleDeviceShardingJson()}};
}

// Only jax.Arrays record their shapes and sharding (Orbax jax_array_handlers.py).
Result<SerializedLeaf> WithoutSideMetadata(Result<SerializedLeaf> written) {
  if (written.has_value()) written->metadata = {};
  return written;
}

// True when the leaf is stored as zarr3: `zarr.json` present, `.zarray` not.
Result<bool> StoredAsZarr3(const ParamInfo& info) {
  if (info.use_zarr3) return true;
  STOWAGE_ASSIGN_OR_RETURN(bool v2, info.store->Exists(info.name + "/.zarray"));
  if (v2) return false;
  return info.store->Exists(info.name + "/zarr.json");
}

array_io::ZarrReadOptions ReadOptionsOf(const ParamInfo& info, const RestoreArgs& args) {
  array_io::ZarrReadOptions options;
  options.fill_missing = args.allow_missing_chunks || !info.raise_array_data_missing_error;
  options.dtype = args.dtype;
  options.io = info.io;
  return options;
}

// Reads the whole array into the caller's `args.into` (chunks that lie
// contiguously there, uncompressed and of the requested dtype, are read
// straight into place) and returns a view of it.
Result<Leaf> ReadArrayLeafInto(const ParamInfo& info, const RestoreArgs& args) {
  std::string where = "restoring \"" + info.name + "\"";
  if (args.restore_type == RestoreType::kScalar) {
    return InvalidArgumentError(where + ": RestoreArgs::into is for array restores");
  }
  auto options = ReadOptionsOf(info, args);
  auto limits = array_io::WithoutArrayBound(options.io.limits);  // the caller's memory
  auto zarr3 = StoredAsZarr3(info);
  if (!zarr3.has_value()) return zarr3.error().WithContext(where);
  Shape shape;
  DType stored;
  if (*zarr3) {
    auto m = array_io::ReadZarr3Metadata(*info.store, info.name, limits);
    if (!m.has_value()) return m.error().WithContext(where);
    shape = m->shape, stored = m->dtype;
  } else {
    auto m = array_io::ReadZarrayMetadata(*info.store, info.name, limits);
    if (!m.has_value()) return m.error().WithContext(where);
    shape = m->shape, stored = m->dtype.dtype;
  }
  options.io.limits = limits;
  auto region = array_io::WholeArray(shape);
  Status read =
      *zarr3 ? array_io::ReadZarr3RegionInto(*info.store, info.name, region, args.into, options)
             : array_io::ReadZarrRegionInto(*info.store, info.name, region, args.into, options);
  if (!read.has_value()) return read.error().WithContext(where);
  return Leaf(ArrayView(args.dtype.value_or(stored), std::move(shape), args.into));
}

Result<Array> ReadArrayLeaf(const ParamInfo& info, const RestoreArgs& args) {
  auto options = ReadOptionsOf(info, args);
  auto zarr3 = StoredAsZarr3(info);
  if (!zarr3.has_value()) return zarr3.error().WithContext("restoring \"" + info.name + "\"");
  auto array = *zarr3 ? array_io::ReadZarr3Array(*info.store, info.name, options)
                      : array_io::ReadZarrArray(*info.store, info.name, options);
  if (!array.has_value()) return array.error().WithContext("restoring \"" + info.name + "\"");
  return std::move(*array);
}

// Applies RestoreArgs.restore_type to an array read from storage.
Result<Leaf> ShapeResult(const ParamInfo& info, Array array, RestoreType type,
                         bool saved_as_scalar) {
  bool want_scalar =
      type == RestoreType::kScalar || (type == RestoreType::kAsSaved && saved_as_scalar);
  if (!want_scalar) return Leaf(std::move(array));
  if (array.rank() != 0) {
    auto message = "restoring \"" + info.name + "\": restored result is not a scalar (shape " +
                   ShapeToString(array.shape()) + ")";
    return saved_as_scalar ? DataLossError(message) : InvalidArgumentError(message);
  }
  return Leaf(Scalar::FromArray(std::move(array)).value());
}

// The shape each process writes (Orbax's write_shape: the first shard's).
Shape WriteShapeOf(const ShardedArray& array) {
  if (array.sharding) return array.sharding->ShardShape();
  return array.shards.empty() ? array.global_shape : array.shards.front().box.shape;
}

// Starts writing one shard (a region of the global array); `metadata`
// also writes `.zarray` / `zarr.json`.
Result<Future<void>> WriteShard(const ParamInfo& info, const ShardedArray& array,
                                std::shared_ptr<const Array> values, const Shape& origin,
                                const Shape& write_shape, const Shape& chunks,
                                std::optional<std::int64_t> chunk_bytes, const SaveArgs& args,
                                bool metadata) {
  DType stored = args.dtype.value_or(array.dtype);
  array_io::RegionWriteOptions options{metadata, info.io};
  if (info.use_zarr3) {
    STOWAGE_ASSIGN_OR_RETURN(
        auto spec,
        array_io::OrbaxZarr3WriteSpec(array.global_shape, write_shape, stored, chunk_bytes,
                                      args.shard_axes, info.use_compression, info.zstd_checksum));
    spec.dtype = args.dtype;
    return array_io::WriteZarr3RegionAsync(info.store, info.name, array.global_shape,
                                           std::move(spec), std::move(values), origin, options);
  }
  array_io::ZarrWriteSpec spec{chunks, CompressorFor(info.use_compression), args.dtype};
  STOWAGE_ASSIGN_OR_RETURN(auto m,
                           array_io::MakeZarrayMetadata(array.global_shape, array.dtype, spec));
  return array_io::WriteZarrRegionAsync(info.store, info.name, std::move(m), std::move(values),
                                        origin, options);
}

// Saves this process's replica-0 shards of a sharded array as Orbax saves a
// jax.Array from many processes (serialization.py async_serialize): every
// process writes its own shards' chunks; process 0 writes the metadata.
Result<SerializedLeaf> WriteShardedLeaf(const ParamInfo& info, ShardedArray array,
                                        const SaveArgs& args) {
  DType stored = args.dtype.value_or(array.dtype);
  Shape write_shape = WriteShapeOf(array);
  auto chunk_bytes = ChunkByteSize(info, write_shape, stored, args.chunk_byte_size);
  auto chunks = array_io::ChooseChunkShape(array.global_shape, write_shape, stored, chunk_bytes,
                                           args.shard_axes);
  if (!chunks.has_value()) return chunks.error().WithContext("saving \"" + info.name + "\"");
  std::vector<Future<void>> writes;
  bool metadata = info.process_index == 0;
  for (auto& shard : array.shards) {
    if (shard.replica_id != 0) continue;  // another process writes this box
    if (shard.data.dtype() != array.dtype || shard.data.shape() != shard.box.shape) {
      return InvalidArgumentError("saving \"" + info.name + "\": a shard holds " +
                                  std::string(DTypeName(shard.data.dtype())) +
                                  ShapeToString(shard.data.shape()) + " for a box of shape " +
                                  ShapeToString(shard.box.shape));
    }
    auto values = std::make_shared<const Array>(std::move(shard.data));
    STOWAGE_ASSIGN_OR_RETURN(
        auto written, WriteShard(info, array, std::move(values), shard.box.origin, write_shape,
                                 *chunks, chunk_bytes, args, metadata));
    writes.push_back(std::move(written));
    metadata = false;
  }
  if (metadata) {  // process 0 holds no shard to write: the metadata alone
    STOWAGE_ASSIGN_OR_RETURN(Array none,
                             Array::Zeros(array.dtype, Shape(array.global_shape.size())));
    STOWAGE_ASSIGN_OR_RETURN(auto written,
                             WriteShard(info, array, std::make_shared<const Array>(std::move(none)),
                                        Shape(array.global_shape.size()), write_shape, *chunks,
                                        chunk_bytes, args, true));
    writes.push_back(std::move(written));
  }
  std::string sharding = array.sharding ? array.sharding->OrbaxShardingJson() : "";
  return SerializedLeaf{WhenAll(std::move(writes)),
                        {write_shape, std::move(*chunks), std::move(sharding)}};
}

// This process's box of `args.sharding`, read from the chunks overlapping it.
Result<Leaf> ReadShardedLeaf(const ParamInfo& info, const RestoreArgs& args) {
  const Sharding& sharding = *args.sharding;
  std::string where = "restoring \"" + info.name + "\"";
  if (sharding.process_count() != info.process_count) {
    return InvalidArgumentError(where + ": the target sharding is for " +
                                std::to_string(sharding.process_count()) + " processes, not " +
                                std::to_string(info.process_count));
  }
  STOWAGE_ASSIGN_OR_RETURN(bool zarr3, StoredAsZarr3(info));
  Shape stored_shape;
  if (zarr3) {
    STOWAGE_ASSIGN_OR_RETURN(auto m, array_io::ReadZarr3Metadata(*info.store, info.name));
    stored_shape = m.shape;
  } else {
    STOWAGE_ASSIGN_OR_RETURN(auto m, array_io::ReadZarrayMetadata(*info.store, info.name));
    stored_shape = m.shape;
  }
  if (stored_shape != sharding.global_shape()) {
    return InvalidArgumentError(where + ": the checkpoint holds shape " +
                                ShapeToString(stored_shape) + ", the target sharding is for " +
                                ShapeToString(sharding.global_shape()));
  }
  const Box& box = sharding.BoxOf(info.process_index);
  array_io::ZarrReadOptions options;
  options.fill_missing = args.allow_missing_chunks || !info.raise_array_data_missing_error;
  options.dtype = args.dtype;
  options.io = info.io;
  array_io::Region region{box.origin, box.shape};
  auto values = zarr3 ? array_io::ReadZarr3Region(*info.store, info.name, region, options)
                      : array_io::ReadZarrRegion(*info.store, info.name, region, options);
  if (!values.has_value()) return values.error().WithContext(where);
  ShardedArray result{stored_shape, values->dtype(), {}, sharding};
  result.shards.push_back({box, sharding.ReplicaIdOf(info.process_index), std::move(*values)});
  return Leaf(std::move(result));
}

class NumpyHandler : public TypeHandler {
 public:
  std::string_view typestr() const override { return kNumpyTypestr; }
  bool Accepts(const Leaf& leaf) const override {
    return std::holds_alternative<Array>(leaf) || std::holds_alternative<ArrayView>(leaf);
  }
  Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                   const SaveArgs& args) const override {
    if (info.process_index != 0) return NothingWritten();  // Orbax: process 0 writes these
    return WithoutSideMetadata(WriteArrayLeaf(info, std::move(leaf), args));
  }
  Result<Leaf> Deserialize(const ParamInfo& info, const RestoreArgs& args) const override {
    if (args.sharding) return ReadShardedLeaf(info, args);
    if (!args.into.empty()) return ReadArrayLeafInto(info, args);
    STOWAGE_ASSIGN_OR_RETURN(Array array, ReadArrayLeaf(info, args));
    return ShapeResult(info, std::move(array), args.restore_type, false);
  }
};

class ScalarHandler : public TypeHandler {
 public:
  std::string_view typestr() const override { return kScalarTypestr; }
  bool Accepts(const Leaf& leaf) const override { return std::holds_alternative<Scalar>(leaf); }
  Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                   const SaveArgs& args) const override {
    if (info.process_index != 0) return NothingWritten();  // Orbax: process 0 writes these
    return WithoutSideMetadata(WriteArrayLeaf(info, std::move(leaf), args));
  }
  Result<Leaf> Deserialize(const ParamInfo& info, const RestoreArgs& args) const override {
    STOWAGE_ASSIGN_OR_RETURN(Array array, ReadArrayLeaf(info, args));
    return ShapeResult(info, std::move(array), args.restore_type, true);
  }
};

// Saves arrays as Orbax saves a jax.Array on one device ("cpu:0"): the same
// zarr array, plus its write and chunk shapes and its sharding for the side
// files. Restores them as host arrays (stowage has no devices).
class JaxArrayHandler : public NumpyHandler {
 public:
  std::string_view typestr() const override { return kJaxArrayTypestr; }
  bool Accepts(const Leaf& leaf) const override {
    return NumpyHandler::Accepts(leaf) || std::holds_alternative<ShardedArray>(leaf);
  }
  Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                   const SaveArgs& args) const override {
    if (auto* sharded = std::get_if<ShardedArray>(&leaf)) {
      return WriteShardedLeaf(info, std::move(*sharded), args);
    }
    if (info.process_index != 0) return DescribeWithoutWriting(info, leaf, args);
    STOWAGE_ASSIGN_OR_RETURN(SerializedLeaf written, WriteArrayLeaf(info, std::move(leaf), args));
    written.metadata.sharding = SingleDeviceShardingJson();
    return written;
  }
};

}  // namespace

std::shared_ptr<const TypeHandler> NewNumpyHandler() { return std::make_shared<NumpyHandler>(); }
std::shared_ptr<const TypeHandler> NewScalarHandler() { return std::make_shared<ScalarHandler>(); }
std::shared_ptr<const TypeHandler> NewJaxArrayHandler() {
  return std::make_shared<JaxArrayHandler>();
}

std::string SingleDeviceShardingJson() {
  nlohmann::ordered_json sharding = {{"sharding_type", "SingleDeviceSharding"},
                                     {"device_str", "cpu:0"}};
  return DumpPythonJson(sharding);
}

}  // namespace stowage::tree
