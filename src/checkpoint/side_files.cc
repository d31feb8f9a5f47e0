#include "checkpoint/side_files.h"

#include <nlohmann/json.hpp>

#include "base/python_json.h"
#include "checkpoint/layout.h"

namespace stowage::checkpoint {

std::string UrlSafeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t group = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[group & 63] : '=';
  }
  return out;
}

std::string EncodeShardingFile(const std::vector<std::pair<std::string, std::string>>& shardings) {
  nlohmann::json file = nlohmann::json::object();  // sorted keys, as TensorStore writes
  for (const auto& [name, sharding] : shardings) file[UrlSafeBase64(name)] = sharding;
  return file.dump();
}

std::string EncodeArrayMetadatas(const std::vector<ArrayMetadataRecord>& records) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& record : records) {
    list.push_back({{"array_metadata",
                     {{"param_name", record.param_name},
                      {"write_shape", record.write_shape},
                      {"chunk_shape", record.chunk_shape},
                      {"ext_metadata", nullptr}}}});
  }
  return DumpPythonJson({{"array_metadatas", std::move(list)}});
}

std::string ArrayMetadatasKey(int process) {
  return std::string(kArrayMetadatasDir) + "/process_" + std::to_string(process);
}

}  // namespace stowage::checkpoint
