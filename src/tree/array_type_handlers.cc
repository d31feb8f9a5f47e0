#include "tree/array_type_handlers.h"

#include "array/chunk_shape.h"
#include "base/python_json.h"

namespace stowage::tree {
namespace {

// TensorStore's zarr driver completes Orbax's {"id": "zstd"} with level 1.
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

// Orbax's calculate_chunk_byte_size: with OCDBT no chunk outgrows a data file.
std::optional<std::int64_t> ChunkByteSize(const ParamInfo& info, const Array& array, DType stored,
                                          std::optional<std::int64_t> requested) {
  std::int64_t cap = info.ocdbt_target_data_file_size;
  if (cap <= 0) return requested;
  if (requested) return std::min(*requested, cap);
  auto bytes = array.num_elements() * static_cast<std::int64_t>(ItemSize(stored));
  return bytes > cap ? std::optional<std::int64_t>(cap) : std::nullopt;
}

// Starts writing `leaf` as a zarr v2 or zarr3 array, with Orbax's chunking.
// The metadata records the write and chunk shapes.
Result<SerializedLeaf> WriteArrayLeaf(const ParamInfo& info, Leaf leaf, const SaveArgs& args) {
  STOWAGE_ASSIGN_OR_RETURN(auto snapshot, Snapshot(std::move(leaf)));
  DType stored = args.dtype.value_or(snapshot->dtype());
  auto chunk_bytes = ChunkByteSize(info, *snapshot, stored, args.chunk_byte_size);
  auto chunks = array_io::ChooseChunkShape(snapshot->shape(), snapshot->shape(), stored,
                                           chunk_bytes, args.shard_axes);
  if (!chunks.has_value()) return chunks.error().WithContext("saving \"" + info.name + "\"");
  SavedLeafMetadata metadata{snapshot->shape(), *chunks, {}};
  if (info.use_zarr3) {
    auto spec = array_io::OrbaxZarr3WriteSpec(snapshot->shape(), snapshot->shape(), stored,
                                              chunk_bytes, args.shard_axes, info.use_compression);
    if (!spec.has_value()) return spec.error().WithContext("saving \"" + info.name + "\"");
    spec->dtype = args.dtype;
    return SerializedLeaf{array_io::WriteZarr3ArrayAsync(info.store, info.name, std::move(snapshot),
                                                         std::move(*spec), info.io),
                          std::move(metadata)};
  }
  array_io::ZarrWriteSpec spec{*chunks, CompressorFor(info.use_compression), args.dtype};
  return SerializedLeaf{array_io::WriteZarrArrayAsync(info.store, info.name, std::move(snapshot),
                                                      std::move(spec), info.io),
                        std::move(metadata)};
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

Result<Array> ReadArrayLeaf(const ParamInfo& info, const RestoreArgs& args) {
  array_io::ZarrReadOptions options;
  options.fill_missing = args.allow_missing_chunks || !info.raise_array_data_missing_error;
  options.dtype = args.dtype;
  options.io = info.io;
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

class NumpyHandler : public TypeHandler {
 public:
  std::string_view typestr() const override { return kNumpyTypestr; }
  bool Accepts(const Leaf& leaf) const override {
    return std::holds_alternative<Array>(leaf) || std::holds_alternative<ArrayView>(leaf);
  }
  Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                   const SaveArgs& args) const override {
    return WithoutSideMetadata(WriteArrayLeaf(info, std::move(leaf), args));
  }
  Result<Leaf> Deserialize(const ParamInfo& info, const RestoreArgs& args) const override {
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
  Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                   const SaveArgs& args) const override {
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
