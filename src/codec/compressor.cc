#include "codec/compressor.h"

#include <string>
#include <string_view>

#include "codec/blosc_compressor.h"
#include "codec/lz4_compressor.h"
#include "codec/params.h"
#include "codec/zlib_compressor.h"
#include "codec/zstd_compressor.h"

namespace stowage::codec {
namespace {

using Factory = Result<std::unique_ptr<Compressor>> (*)(const nlohmann::json&);

struct Entry {
  std::string_view id;
  Factory make;
};

// Every compressor id stowage reads and writes, sorted by id.
constexpr Entry kCompressors[] = {
    {"blosc", &BloscCompressor::FromJson}, {"gzip", &ZlibCompressor::GzipFromJson},
    {"lz4", &Lz4Compressor::FromJson},     {"zlib", &ZlibCompressor::ZlibFromJson},
    {"zstd", &ZstdCompressor::FromJson},
};

std::string SupportedIds() {
  std::string ids;
  for (const Entry& entry : kCompressors) {
    if (!ids.empty()) ids += ", ";
    ids += entry.id;
  }
  return ids;
}

}  // namespace

Result<std::unique_ptr<Compressor>> MakeCompressor(const nlohmann::json& config) {
  if (!config.is_object()) {
    return DataLossError("compressor must be a JSON object, got " + internal::DescribeJson(config));
  }
  auto id = config.find("id");
  if (id == config.end() || !id->is_string()) {
    return DataLossError("compressor object needs a string field \"id\", got " +
                         internal::DescribeJson(config));
  }
  const std::string& name = id->get_ref<const std::string&>();
  for (const Entry& entry : kCompressors) {
    if (entry.id == name) return entry.make(config);
  }
  return UnsupportedError("compressor \"" + name +
                          "\" is not supported (supported: " + SupportedIds() + ")");
}

Result<std::unique_ptr<Compressor>> MakeCompressorOrNone(const nlohmann::json& config) {
  if (config.is_null()) return std::unique_ptr<Compressor>();
  return MakeCompressor(config);
}

}  // namespace stowage::codec
