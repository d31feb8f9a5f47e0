#include "zarr/zarray.h"

#include "base/bytes.h"
#include "base/stored_json.h"

namespace stowage::zarr {
namespace {

using json = nlohmann::json;

Result<Shape> ParseDims(const json& value, std::string_view field, std::string_view path) {
  if (!value.is_array()) {
    return DataLossError(std::string(path) + ": \"" + std::string(field) + "\" is not a list");
  }
  Shape dims;
  for (const auto& item : value) {
    if (!item.is_number_integer()) {
      return DataLossError(std::string(path) + ": \"" + std::string(field) +
                           "\" holds a non-integer");
    }
    dims.push_back(item.get<std::int64_t>());
  }
  return dims;
}

Status CheckLimits(const ZarrayMetadata& m, std::string_view path, const Limits& limits) {
  std::string where(path);
  auto too_big = [&](const std::string& what) {
    return ResourceExhaustedError(where + ": " + what + " exceeds the limit of " +
                                  std::to_string(MaxBytes(limits)) + " bytes");
  };
  // A byte count that overflows 64 bits is beyond any limit too.
  auto array_bytes = NumBytes(m.shape, m.dtype.dtype);
  if (!array_bytes.has_value() || *array_bytes > MaxBytes(limits)) {
    return too_big("array shape " + ShapeToString(m.shape));
  }
  auto chunk_bytes = NumBytes(m.chunks, m.dtype.dtype);
  if (!chunk_bytes.has_value() || *chunk_bytes > MaxBytes(limits)) {
    return too_big("chunk shape " + ShapeToString(m.chunks));
  }
  auto chunks = NumElements(m.grid_shape());
  if (!chunks.has_value() || static_cast<std::uint64_t>(*chunks) > limits.max_chunks) {
    return ResourceExhaustedError(where + ": more than " + std::to_string(limits.max_chunks) +
                                  " chunks");
  }
  return OkStatus();
}

Status ValidateShapes(const ZarrayMetadata& m, std::string_view path) {
  std::string where(path);
  if (m.shape.size() != m.chunks.size()) {
    return DataLossError(where + ": shape " + ShapeToString(m.shape) + " and chunks " +
                         ShapeToString(m.chunks) + " differ in rank");
  }
  for (std::size_t i = 0; i < m.shape.size(); ++i) {
    if (m.shape[i] < 0) return DataLossError(where + ": negative dimension in shape");
    if (m.chunks[i] <= 0) return DataLossError(where + ": chunk dimensions must be positive");
  }
  return OkStatus();
}

Result<char> ParseOneCharField(const json& doc, const char* field, std::string_view allowed,
                               char fallback, std::string_view path) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return fallback;
  if (!it->is_string() || it->get_ref<const std::string&>().size() != 1 ||
      allowed.find(it->get_ref<const std::string&>()[0]) == std::string_view::npos) {
    return DataLossError(std::string(path) + ": \"" + field + "\" must be one of \"" +
                         std::string(allowed) + "\"");
  }
  return it->get_ref<const std::string&>()[0];
}

}  // namespace

std::uint64_t MaxBytes(const Limits& limits) {
  return limits.max_bytes ? limits.max_bytes : PhysicalMemoryBytes();
}

std::int64_t ZarrayMetadata::chunk_elements() const { return NumElements(chunks).value(); }

Shape ZarrayMetadata::grid_shape() const {
  Shape grid(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) grid[i] = (shape[i] + chunks[i] - 1) / chunks[i];
  return grid;
}

std::string EncodeZarray(const ZarrayMetadata& m) {
  json doc;  // std::map-backed: keys come out sorted, as TensorStore writes them
  doc["chunks"] = m.chunks;
  doc["compressor"] = m.compressor;
  doc["dimension_separator"] = std::string(1, m.dimension_separator);
  doc["dtype"] = ZarrDTypeString(m.dtype.dtype);
  doc["fill_value"] = m.fill_value;
  doc["filters"] = nullptr;
  doc["order"] = std::string(1, m.order);
  doc["shape"] = m.shape;
  doc["zarr_format"] = 2;
  return doc.dump();
}

Result<ZarrayMetadata> ParseZarray(std::span<const std::byte> text, std::string_view path,
                                   const Limits& limits) {
  std::string where(path);
  STOWAGE_ASSIGN_OR_RETURN(json doc, ParseStoredJson<json>(AsStringView(text), where));
  if (!doc.is_object()) return DataLossError(where + ": not a JSON object");
  auto format = doc.find("zarr_format");
  if (format == doc.end() || !format->is_number_integer() || format->get<int>() != 2) {
    return UnsupportedError(where + ": zarr_format must be 2");
  }
  for (const char* field : {"shape", "chunks", "dtype"}) {
    if (!doc.contains(field)) return DataLossError(where + ": missing \"" + field + "\"");
  }
  ZarrayMetadata m;
  STOWAGE_ASSIGN_OR_RETURN(m.shape, ParseDims(doc["shape"], "shape", path));
  STOWAGE_ASSIGN_OR_RETURN(m.chunks, ParseDims(doc["chunks"], "chunks", path));
  STOWAGE_RETURN_IF_ERROR(ValidateShapes(m, path));
  if (!doc["dtype"].is_string()) {
    return UnsupportedError(where + ": structured dtypes are not supported");
  }
  auto dtype = ParseZarrDType(doc["dtype"].get<std::string>());
  if (!dtype.has_value()) return dtype.error().WithContext(where);
  m.dtype = *dtype;
  m.compressor = doc.value("compressor", json());
  if (!m.compressor.is_null() && !m.compressor.is_object()) {
    return DataLossError(where + ": \"compressor\" must be an object or null");
  }
  m.fill_value = doc.value("fill_value", json());
  auto filters = doc.find("filters");
  if (filters != doc.end() && !filters->is_null() && !(filters->is_array() && filters->empty())) {
    return UnsupportedError(where + ": zarr filters are not supported");
  }
  STOWAGE_ASSIGN_OR_RETURN(m.order, ParseOneCharField(doc, "order", "CF", 'C', path));
  STOWAGE_ASSIGN_OR_RETURN(m.dimension_separator,
                           ParseOneCharField(doc, "dimension_separator", "./", '.', path));
  STOWAGE_RETURN_IF_ERROR(CheckLimits(m, path, limits));
  return m;
}

}  // namespace stowage::zarr
