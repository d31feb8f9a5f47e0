// The small JSON files a PyTree save writes beside its arrays, as Orbax
// writes them: `_sharding` (orbax `_src/serialization/jax_array_handlers.py`
// `_async_serialize_shardings` through TensorStore's json driver) and
// `array_metadatas/process_<i>` (`_src/metadata/array_metadata_store.py`).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stowage/array.h"

namespace stowage::checkpoint {

// One jax.Array's entry in `array_metadatas/process_<i>`.
struct ArrayMetadataRecord {
  std::string param_name;
  Shape write_shape;
  Shape chunk_shape;
};

// `_sharding`: a compact JSON object, keys sorted, mapping the URL-safe
// base64 of each param name (with '=' padding) to its sharding JSON text.
std::string EncodeShardingFile(const std::vector<std::pair<std::string, std::string>>& shardings);

// `array_metadatas/process_<i>`: Orbax's json.dumps of the records in order.
std::string EncodeArrayMetadatas(const std::vector<ArrayMetadataRecord>& records);

// The key of `array_metadatas/process_<process>`.
std::string ArrayMetadatasKey(int process);

// URL-safe base64 with padding (Python's base64.urlsafe_b64encode).
std::string UrlSafeBase64(std::string_view bytes);

}  // namespace stowage::checkpoint
