#include "zarr/zarr3_metadata.h"

#include <utility>

#include "base/stored_json.h"
#include "zarr/zarr3_fill_value.h"

namespace stowage::zarr {
namespace {

using json = nlohmann::json;

// TensorStore's kMaxNumEntries for one shard index.
constexpr std::int64_t kMaxShardEntries = std::int64_t{1} << 30;

Error Bad(ErrorCode code, std::string_view path, const std::string& message) {
  return Error(code, std::string(path) + ": " + message);
}

Result<Shape> ParseShape(const json& value, std::string_view what, std::string_view path,
                         std::int64_t min) {
  if (!value.is_array())
    return DataLossError(std::string(path) + ": " + std::string(what) + " is not a list");
  Shape dims;
  for (const auto& item : value) {
    bool huge = item.is_number_unsigned() && item.get<std::uint64_t>() > (std::uint64_t{1} << 62);
    if (!item.is_number_integer() || huge || item.get<std::int64_t>() < min) {
      return DataLossError(std::string(path) + ": " + std::string(what) + " holds " + item.dump() +
                           (min > 0 ? ", not a positive integer" : ", not a non-negative integer"));
    }
    dims.push_back(item.get<std::int64_t>());
  }
  return dims;
}

// {"name": "regular", "configuration": {"chunk_shape": [...]}}
Result<Shape> ParseChunkGrid(const json& grid, std::string_view path) {
  auto bad = [&] {
    return DataLossError(std::string(path) +
                         ": chunk_grid must be {\"name\":\"regular\",\"configuration\":"
                         "{\"chunk_shape\":[...]}}");
  };
  if (!grid.is_object() || grid.size() != 2 || grid.value("name", json()) != "regular") {
    if (grid.is_object() && grid.contains("name") && grid["name"] != "regular") {
      return UnsupportedError(std::string(path) + ": chunk_grid " + grid["name"].dump() +
                              " is not supported");
    }
    return bad();
  }
  if (!grid.contains("configuration")) return bad();  // const operator[] needs the key
  const json& config = grid["configuration"];
  if (!config.is_object() || config.size() != 1 || !config.contains("chunk_shape")) return bad();
  return ParseShape(config["chunk_shape"], "chunk_shape", path, 1);
}

Result<ChunkKeyEncoding> ParseChunkKeyEncoding(const json& value, std::string_view path) {
  auto bad = [&](const std::string& what) {
    return DataLossError(std::string(path) + ": chunk_key_encoding " + what);
  };
  if (!value.is_object() || !value.contains("name")) return bad("must be an object with a name");
  ChunkKeyEncoding encoding;
  for (const auto& [key, member] : value.items()) {
    if (key == "name") {
      if (member == "default") {
        encoding.kind = ChunkKeyEncoding::Kind::kDefault;
      } else if (member == "v2") {
        encoding.kind = ChunkKeyEncoding::Kind::kV2;
      } else {
        return UnsupportedError(std::string(path) + ": chunk_key_encoding " + member.dump() +
                                " is not supported");
      }
    } else if (key != "configuration" || !member.is_object()) {
      return bad("has an unexpected member \"" + key + "\"");
    }
  }
  encoding.separator = ChunkKeyEncoding::DefaultSeparator(encoding.kind);
  const json config = value.value("configuration", json::object());
  for (const auto& [key, member] : config.items()) {
    if (key != "separator" || (member != "/" && member != ".")) {
      return bad("configuration must be {\"separator\": \"/\" or \".\"}");
    }
    encoding.separator = member.get<std::string>()[0];
  }
  return encoding;
}

json ChunkKeyEncodingToJson(const ChunkKeyEncoding& encoding) {
  json value = {{"name", encoding.kind == ChunkKeyEncoding::Kind::kDefault ? "default" : "v2"}};
  if (encoding.separator != ChunkKeyEncoding::DefaultSeparator(encoding.kind)) {
    value["configuration"] = {{"separator", std::string(1, encoding.separator)}};
  }
  return value;
}

Status CheckOptional(const json& doc, std::size_t rank, std::string_view path) {
  if (auto it = doc.find("dimension_names"); it != doc.end()) {
    bool ok = it->is_array() && it->size() == rank;
    for (const auto& name : *it) ok = ok && (name.is_string() || name.is_null());
    if (!ok) {
      return DataLossError(std::string(path) +
                           ": dimension_names must list a string or null per dimension");
    }
  }
  if (auto it = doc.find("attributes"); it != doc.end() && !it->is_object()) {
    return DataLossError(std::string(path) + ": attributes must be an object");
  }
  if (auto it = doc.find("storage_transformers"); it != doc.end()) {
    if (!it->is_array()) return DataLossError(std::string(path) + ": bad storage_transformers");
    if (!it->empty()) {
      return UnsupportedError(std::string(path) + ": storage_transformers are not supported");
    }
  }
  return OkStatus();
}

constexpr const char* kKnownMembers[] = {
    "zarr_format",         "node_type",  "shape",  "data_type",       "chunk_grid",
    "chunk_key_encoding",  "fill_value", "codecs", "dimension_names", "attributes",
    "storage_transformers"};

// Unknown members must be objects holding "must_understand": false.
Result<json> ParseExtensions(const json& doc, std::string_view path) {
  json extensions = json::object();
  for (const auto& [key, value] : doc.items()) {
    if (std::find(std::begin(kKnownMembers), std::end(kKnownMembers), key) !=
        std::end(kKnownMembers)) {
      continue;
    }
    auto flag = value.is_object() ? value.find("must_understand") : value.end();
    if (!value.is_object() || flag == value.end() || *flag != false) {
      return UnsupportedError(std::string(path) + ": unsupported metadata field \"" + key +
                              "\" is not marked {\"must_understand\": false}");
    }
    extensions[key] = value;
  }
  return extensions;
}

Shape Permuted(const Shape& shape, const std::vector<int>& order) {
  Shape out(shape.size());
  for (std::size_t i = 0; i < order.size(); ++i) out[i] = shape[order[i]];
  return out;
}

// Validates the sharding levels of `chain` for chunks of `shape`.
Status CheckChainLayout(const Zarr3CodecChain& chain, Shape shape, std::string_view path,
                        const Limits& limits, ErrorCode bad) {
  for (const auto& t : chain.transposes) shape = Permuted(shape, t.order);
  if (!chain.sharding) return OkStatus();
  const Zarr3ShardingCodec& s = *chain.sharding;
  std::int64_t entries = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] % s.chunk_shape[i] != 0) {
      return Bad(bad, path,
                 "sharding_indexed chunk_shape " + ShapeToString(s.chunk_shape) +
                     " does not evenly divide chunk shape " + ShapeToString(shape));
    }
    entries *= shape[i] / s.chunk_shape[i];  // <= 2^62 / 1 per dim, checked below
    if (entries > kMaxShardEntries) {
      return ResourceExhaustedError(std::string(path) + ": sharding_indexed grid of chunk " +
                                    ShapeToString(shape) + " has more than 2^30 entries");
    }
  }
  // 16 bytes per entry, plus a few bytes of checksums.
  std::uint64_t index_bytes = static_cast<std::uint64_t>(entries) * 16 + 64;
  if (index_bytes > MaxBytes(limits)) {
    return ResourceExhaustedError(std::string(path) + ": shard index of " +
                                  std::to_string(entries) + " entries exceeds the limit");
  }
  return CheckChainLayout(s.codecs, s.chunk_shape, path, limits, bad);
}

}  // namespace

std::int64_t Zarr3Metadata::chunk_elements() const { return NumElements(chunk_shape).value(); }

Shape Zarr3Metadata::grid_shape() const {
  Shape grid(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) {
    grid[i] = (shape[i] + chunk_shape[i] - 1) / chunk_shape[i];
  }
  return grid;
}

Status ValidateZarr3Layout(const Zarr3Metadata& m, std::string_view path, const Limits& limits,
                           ErrorCode bad) {
  if (m.shape.size() != m.chunk_shape.size()) {
    return Bad(bad, path,
               "shape " + ShapeToString(m.shape) + " and chunk shape " +
                   ShapeToString(m.chunk_shape) + " differ in rank");
  }
  for (std::size_t i = 0; i < m.shape.size(); ++i) {
    if (m.shape[i] < 0) return Bad(bad, path, "negative dimension in shape");
    if (m.chunk_shape[i] <= 0) return Bad(bad, path, "chunk dimensions must be positive");
  }
  auto too_big = [&](const std::string& what) {
    return ResourceExhaustedError(std::string(path) + ": " + what + " exceeds the limit of " +
                                  std::to_string(MaxBytes(limits)) + " bytes");
  };
  auto array_bytes = NumBytes(m.shape, m.dtype);
  if (!array_bytes.has_value() || *array_bytes > MaxBytes(limits)) {
    return too_big("array shape " + ShapeToString(m.shape));
  }
  auto chunk_bytes = NumBytes(m.chunk_shape, m.dtype);
  if (!chunk_bytes.has_value() || *chunk_bytes > MaxBytes(limits)) {
    return too_big("chunk shape " + ShapeToString(m.chunk_shape));
  }
  auto chunks = NumElements(m.grid_shape());
  if (!chunks.has_value() || static_cast<std::uint64_t>(*chunks) > limits.max_chunks) {
    return ResourceExhaustedError(std::string(path) + ": more than " +
                                  std::to_string(limits.max_chunks) + " chunks");
  }
  return CheckChainLayout(m.codecs, m.chunk_shape, path, limits, bad);
}

std::string EncodeZarrJson(const Zarr3Metadata& m) {
  json doc = m.extensions.is_object() ? m.extensions : json::object();  // sorted keys
  doc["chunk_grid"] = {{"configuration", {{"chunk_shape", m.chunk_shape}}}, {"name", "regular"}};
  doc["chunk_key_encoding"] = ChunkKeyEncodingToJson(m.chunk_key_encoding);
  doc["codecs"] = CodecChainToJson(m.codecs);
  doc["data_type"] = Zarr3DTypeName(m.dtype);
  doc["fill_value"] = Zarr3FillValueToJson(m.fill_value, m.dtype);
  doc["node_type"] = "array";
  doc["shape"] = m.shape;
  doc["zarr_format"] = 3;
  if (m.dimension_names.is_array()) {
    for (const auto& name : m.dimension_names) {
      if (name.is_string()) {
        doc["dimension_names"] = m.dimension_names;
        break;
      }
    }
  }
  if (m.attributes.is_object() && !m.attributes.empty()) doc["attributes"] = m.attributes;
  return doc.dump();
}

Result<Zarr3Metadata> ParseZarrJson(std::span<const std::byte> text, std::string_view path,
                                    const Limits& limits) {
  std::string where(path);
  STOWAGE_ASSIGN_OR_RETURN(json doc, ParseStoredJson<json>(AsStringView(text), where));
  if (!doc.is_object()) return DataLossError(where + ": not a JSON object");
  auto format = doc.find("zarr_format");
  if (format == doc.end() || !format->is_number_integer() || *format != 3) {
    return UnsupportedError(where + ": zarr_format must be 3");
  }
  auto node_type = doc.find("node_type");
  if (node_type == doc.end() || *node_type != "array") {
    return UnsupportedError(where + ": node_type must be \"array\"");
  }
  for (const char* member :
       {"shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs"}) {
    if (!doc.contains(member)) return DataLossError(where + ": missing \"" + member + "\"");
  }
  Zarr3Metadata m;
  STOWAGE_ASSIGN_OR_RETURN(m.shape, ParseShape(doc["shape"], "shape", path, 0));
  STOWAGE_ASSIGN_OR_RETURN(m.chunk_shape, ParseChunkGrid(doc["chunk_grid"], path));
  if (m.shape.size() != m.chunk_shape.size()) {
    return DataLossError(where + ": shape " + ShapeToString(m.shape) + " and chunk_shape " +
                         ShapeToString(m.chunk_shape) + " differ in rank");
  }
  STOWAGE_ASSIGN_OR_RETURN(m.dtype, ParseZarr3DType(doc["data_type"], path));
  STOWAGE_ASSIGN_OR_RETURN(m.fill_value, ParseZarr3FillValue(doc["fill_value"], m.dtype, path));
  STOWAGE_ASSIGN_OR_RETURN(m.chunk_key_encoding,
                           ParseChunkKeyEncoding(doc["chunk_key_encoding"], path));
  STOWAGE_ASSIGN_OR_RETURN(
      m.codecs, ParseCodecChain(doc["codecs"], m.dtype, m.shape.size(), {.where = where}));
  STOWAGE_RETURN_IF_ERROR(CheckOptional(doc, m.shape.size(), path));
  m.dimension_names = doc.value("dimension_names", json());
  m.attributes = doc.value("attributes", json());
  STOWAGE_ASSIGN_OR_RETURN(m.extensions, ParseExtensions(doc, path));
  STOWAGE_RETURN_IF_ERROR(ValidateZarr3Layout(m, path, limits, ErrorCode::kDataLoss));
  return m;
}

}  // namespace stowage::zarr
