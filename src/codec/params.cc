#include "codec/params.h"

#include <string>

namespace stowage::codec::internal {
namespace {

Error FieldError(std::string_view codec, std::string_view name, std::string_view expectation,
                 const nlohmann::json& value) {
  return DataLossError("compressor \"" + std::string(codec) + "\": field \"" + std::string(name) +
                       "\" must be " + std::string(expectation) + ", got " + DescribeJson(value));
}

// The field `name` of `config`, or nullptr when absent.
const nlohmann::json* FindField(const nlohmann::json& config, std::string_view name) {
  auto it = config.find(name);
  return it == config.end() ? nullptr : &*it;
}

}  // namespace

std::string DescribeJson(const nlohmann::json& value) {
  std::string text = value.dump();
  constexpr std::size_t kMaxChars = 60;
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars) + "...";
  return text;
}

Result<std::int64_t> IntParam(const nlohmann::json& config, std::string_view codec,
                              std::string_view name, std::int64_t default_value, std::int64_t min,
                              std::int64_t max) {
  const nlohmann::json* value = FindField(config, name);
  if (value == nullptr) return default_value;
  std::string expectation =
      "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!value->is_number_integer()) return FieldError(codec, name, expectation, *value);
  if (value->is_number_unsigned() &&
      value->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    return FieldError(codec, name, expectation, *value);
  }
  std::int64_t number = value->get<std::int64_t>();
  if (number < min || number > max) return FieldError(codec, name, expectation, *value);
  return number;
}

Result<bool> BoolParam(const nlohmann::json& config, std::string_view codec, std::string_view name,
                       bool default_value) {
  const nlohmann::json* value = FindField(config, name);
  if (value == nullptr) return default_value;
  if (!value->is_boolean()) return FieldError(codec, name, "a boolean", *value);
  return value->get<bool>();
}

Result<std::string> StringParam(const nlohmann::json& config, std::string_view codec,
                                std::string_view name, std::string_view default_value) {
  const nlohmann::json* value = FindField(config, name);
  if (value == nullptr) return std::string(default_value);
  if (!value->is_string()) return FieldError(codec, name, "a string", *value);
  return value->get<std::string>();
}

Error CodecDataLoss(std::string_view codec, std::string_view what) {
  return DataLossError(std::string(codec) + ": " + std::string(what));
}

Status CheckDecodedSize(std::string_view codec, std::size_t decoded, std::size_t expected) {
  if (decoded == expected) return OkStatus();
  return CodecDataLoss(codec, "decodes to " + std::to_string(decoded) + " bytes, expected " +
                                  std::to_string(expected));
}

}  // namespace stowage::codec::internal
