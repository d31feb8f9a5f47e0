#include "zarr/zarr3_codec_spec.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "codec/blosc_compressor.h"

namespace stowage::zarr {
namespace {

using json = nlohmann::json;

// libzstd's level range (ZSTD_minCLevel() .. ZSTD_maxCLevel()), which
// TensorStore's zstd codec accepts.
constexpr int kMinZstdLevel = -(1 << 17);
constexpr int kMaxZstdLevel = 22;
// c-blosc's BLOSC_MAX_TYPESIZE and BLOSC_MAX_BLOCKSIZE.
constexpr std::int64_t kMaxBloscTypesize = 255;
constexpr std::int64_t kMaxBloscBlocksize = std::int64_t{1} << 28;
// Bits per element are unknown after a bytes->bytes codec.
constexpr std::int64_t kUnknownItemSize = -1;

// Reads one codec's "configuration": members are taken one by one and any
// left over is an error, as TensorStore's JSON binders do.
class Config {
 public:
  Config(json members, std::string codec, const CodecParseOptions& options)
      : members_(std::move(members)), codec_(std::move(codec)), options_(options) {}

  Error Bad(const std::string& message) const {
    std::string text = options_.where + ": codec \"" + codec_ + "\": " + message;
    return options_.stored ? DataLossError(text) : InvalidArgumentError(text);
  }

  // The member `name`, removed; nullopt when absent (an error when stored).
  Result<std::optional<json>> Take(const char* name, bool required_when_stored = true) {
    auto it = members_.find(name);
    if (it == members_.end()) {
      if (options_.stored && required_when_stored) {
        return Bad(std::string("missing \"") + name + "\"");
      }
      return std::optional<json>();
    }
    json value = std::move(*it);
    members_.erase(it);
    return std::optional<json>(std::move(value));
  }

  Result<std::int64_t> Int(const char* name, std::int64_t fallback, std::int64_t min,
                           std::int64_t max, bool required_when_stored = true) {
    STOWAGE_ASSIGN_OR_RETURN(auto value, Take(name, required_when_stored));
    if (!value) return fallback;
    if (!value->is_number_integer() ||
        (value->is_number_unsigned() &&
         value->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))) {
      return Bad(std::string("\"") + name + "\" must be an integer");
    }
    std::int64_t v = value->get<std::int64_t>();
    if (v < min || v > max) {
      return Bad(std::string("\"") + name + "\" = " + std::to_string(v) + " is outside [" +
                 std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    return v;
  }

  Result<std::optional<std::string>> String(const char* name, bool required_when_stored = true) {
    STOWAGE_ASSIGN_OR_RETURN(auto value, Take(name, required_when_stored));
    if (!value) return std::optional<std::string>();
    if (!value->is_string()) return Bad(std::string("\"") + name + "\" must be a string");
    return std::optional<std::string>(value->get<std::string>());
  }

  Status Finish() const {
    if (members_.empty()) return OkStatus();
    return Bad("unexpected member \"" + members_.begin().key() + "\"");
  }

  const CodecParseOptions& options() const { return options_; }

 private:
  json members_;
  std::string codec_;
  const CodecParseOptions& options_;
};

Error BadChain(const CodecParseOptions& options, const std::string& message) {
  std::string text = options.where + ": \"codecs\": " + message;
  return options.stored ? DataLossError(text) : InvalidArgumentError(text);
}

Result<Zarr3BytesCodec> ParseBytes(Config& config, DType dtype) {
  STOWAGE_ASSIGN_OR_RETURN(auto endian, config.String("endian", /*required_when_stored=*/false));
  Zarr3BytesCodec codec;
  if (ItemSize(dtype) == 1) return codec;  // endian-invariant: not kept
  if (!endian) {
    if (config.options().stored) {
      return config.Bad("\"endian\" is required for " + std::string(DTypeName(dtype)));
    }
    endian = "little";  // TensorStore's default: the host order
  }
  if (*endian == "little") {
    codec.endian = Endian::kLittle;
  } else if (*endian == "big") {
    codec.endian = Endian::kBig;
  } else {
    return config.Bad("\"endian\" must be \"little\" or \"big\"");
  }
  return codec;
}

Result<Zarr3TransposeCodec> ParseTranspose(Config& config, std::size_t rank) {
  STOWAGE_ASSIGN_OR_RETURN(auto order, config.Take("order", /*required_when_stored=*/true));
  if (!order && !config.options().stored) return config.Bad("missing \"order\"");
  Zarr3TransposeCodec codec;
  codec.order.resize(rank);
  if (order->is_string() && (*order == "C" || *order == "F")) {  // identity / reversed
    for (std::size_t i = 0; i < rank; ++i) {
      codec.order[i] = static_cast<int>(*order == "C" ? i : rank - 1 - i);
    }
    return codec;
  }
  if (!order->is_array() || order->size() != rank) {
    return config.Bad("\"order\" must be \"C\", \"F\" or a permutation of " + std::to_string(rank) +
                      " dimensions");
  }
  std::vector<bool> seen(rank, false);
  for (std::size_t i = 0; i < rank; ++i) {
    const json& item = (*order)[i];
    if (!item.is_number_integer() || item.get<std::int64_t>() < 0 ||
        item.get<std::int64_t>() >= static_cast<std::int64_t>(rank) ||
        seen[item.get<std::size_t>()]) {
      return config.Bad("\"order\" " + order->dump() + " is not a valid permutation");
    }
    seen[item.get<std::size_t>()] = true;
    codec.order[i] = item.get<int>();
  }
  return codec;
}

Result<Zarr3BytesToBytesCodec> ParseZstd(Config& config) {
  Zarr3ZstdCodec codec;
  STOWAGE_ASSIGN_OR_RETURN(std::int64_t level,
                           config.Int("level", 3, kMinZstdLevel, kMaxZstdLevel));
  codec.level = static_cast<int>(level);
  STOWAGE_ASSIGN_OR_RETURN(auto checksum, config.Take("checksum", /*required_when_stored=*/false));
  if (checksum) {
    if (!checksum->is_boolean()) return config.Bad("\"checksum\" must be a boolean");
    codec.checksum = checksum->get<bool>();
  }
  return codec;
}

Result<Zarr3BytesToBytesCodec> ParseGzip(Config& config) {
  STOWAGE_ASSIGN_OR_RETURN(std::int64_t level, config.Int("level", 6, 0, 9));
  return Zarr3GzipCodec{static_cast<int>(level)};
}

Result<int> ParseShuffle(Config& config) {
  STOWAGE_ASSIGN_OR_RETURN(auto shuffle, config.String("shuffle"));
  if (!shuffle) return -1;  // unset: inferred below
  if (*shuffle == "noshuffle") return Zarr3BloscCodec::kNoShuffle;
  if (*shuffle == "shuffle") return Zarr3BloscCodec::kShuffle;
  if (*shuffle == "bitshuffle") return Zarr3BloscCodec::kBitShuffle;
  return config.Bad("\"shuffle\" must be \"noshuffle\", \"shuffle\" or \"bitshuffle\"");
}

// Resolution as in TensorStore's BloscCodecSpec::Resolve: typesize defaults
// to the element size of the preceding `bytes` codec; shuffle to bit shuffle
// for 1-byte elements, else byte shuffle; with no usable element size and
// no shuffle given, shuffling is off.
Result<Zarr3BytesToBytesCodec> ParseBlosc(Config& config, std::int64_t item_size) {
  Zarr3BloscCodec codec;
  STOWAGE_ASSIGN_OR_RETURN(auto cname, config.String("cname"));
  if (cname) codec.cname = *cname;
  if (!codec::BloscCompressor::FromJson({{"id", "blosc"}, {"cname", codec.cname}}).has_value()) {
    return UnsupportedError(config.options().where + ": blosc cname \"" + codec.cname +
                            "\" is not supported");
  }
  STOWAGE_ASSIGN_OR_RETURN(std::int64_t clevel, config.Int("clevel", 5, 0, 9));
  codec.clevel = static_cast<int>(clevel);
  STOWAGE_ASSIGN_OR_RETURN(int shuffle, ParseShuffle(config));
  bool typesize_required = shuffle != Zarr3BloscCodec::kNoShuffle;
  STOWAGE_ASSIGN_OR_RETURN(std::int64_t typesize,
                           config.Int("typesize", 0, 1, kMaxBloscTypesize, typesize_required));
  if (shuffle != Zarr3BloscCodec::kNoShuffle && typesize == 0) {
    if (item_size < 1 || item_size > kMaxBloscTypesize) {
      if (shuffle != -1) return config.Bad("\"typesize\" must be given");
      shuffle = Zarr3BloscCodec::kNoShuffle;
      typesize = 1;
    } else {
      typesize = item_size;
    }
  }
  codec.typesize = typesize == 0 ? 1 : typesize;
  codec.shuffle = shuffle != -1 ? shuffle
                                : (codec.typesize == 1 ? Zarr3BloscCodec::kBitShuffle
                                                       : Zarr3BloscCodec::kShuffle);
  STOWAGE_ASSIGN_OR_RETURN(codec.blocksize, config.Int("blocksize", 0, 0, kMaxBloscBlocksize));
  return codec;
}

Result<Shape> ParseInnerChunkShape(Config& config, std::size_t rank) {
  STOWAGE_ASSIGN_OR_RETURN(auto shape, config.Take("chunk_shape"));
  if (!shape) return config.Bad("missing \"chunk_shape\"");
  if (!shape->is_array() || shape->size() != rank) {
    return config.Bad("\"chunk_shape\" must list " + std::to_string(rank) + " dimensions");
  }
  Shape out;
  for (const json& item : *shape) {
    if (!item.is_number_integer() || item.get<std::int64_t>() < 1 ||
        (item.is_number_unsigned() && item.get<std::uint64_t>() > (std::uint64_t{1} << 62))) {
      return config.Bad("\"chunk_shape\" entries must be positive integers");
    }
    out.push_back(item.get<std::int64_t>());
  }
  return out;
}

Result<std::shared_ptr<const Zarr3ShardingCodec>> ParseSharding(Config& config, DType dtype,
                                                                std::size_t rank) {
  auto codec = std::make_shared<Zarr3ShardingCodec>();
  STOWAGE_ASSIGN_OR_RETURN(codec->chunk_shape, ParseInnerChunkShape(config, rank));
  CodecParseOptions nested = config.options();
  if (--nested.max_nesting < 0) {
    return ResourceExhaustedError(nested.where + ": sharding_indexed is nested too deeply");
  }
  nested.where += " (sharding_indexed)";
  STOWAGE_ASSIGN_OR_RETURN(auto inner, config.Take("codecs"));
  STOWAGE_ASSIGN_OR_RETURN(codec->codecs,
                           ParseCodecChain(inner.value_or(json::array()), dtype, rank, nested));
  STOWAGE_ASSIGN_OR_RETURN(auto index, config.Take("index_codecs"));
  json default_index = json::array(
      {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}, {{"name", "crc32c"}}});
  nested.where = config.options().where + " (index_codecs)";
  STOWAGE_ASSIGN_OR_RETURN(codec->index_codecs, ParseCodecChain(index.value_or(default_index),
                                                                DType::kUint64, rank + 1, nested));
  const Zarr3CodecChain& ic = codec->index_codecs;
  bool fixed_size =
      !ic.sharding && std::all_of(ic.bytes_to_bytes.begin(), ic.bytes_to_bytes.end(),
                                  [](const Zarr3BytesToBytesCodec& c) {
                                    return std::holds_alternative<Zarr3Crc32cCodec>(c);
                                  });
  if (!fixed_size) {
    return UnsupportedError(config.options().where +
                            ": sharding_indexed index_codecs must have a fixed-size encoding");
  }
  STOWAGE_ASSIGN_OR_RETURN(auto location, config.String("index_location", false));
  if (location && *location != "start" && *location != "end") {
    return config.Bad("\"index_location\" must be \"start\" or \"end\"");
  }
  codec->index_at_start = location && *location == "start";
  return std::shared_ptr<const Zarr3ShardingCodec>(std::move(codec));
}

// Splits one "codecs" entry into its name and configuration.
Result<std::pair<std::string, json>> NameAndConfiguration(const json& entry,
                                                          const CodecParseOptions& options) {
  if (entry.is_string() && !options.stored)
    return std::make_pair(entry.get<std::string>(), json::object());
  if (!entry.is_object()) return BadChain(options, "each codec must be an object");
  json config = json::object();
  std::string name;
  for (const auto& [key, value] : entry.items()) {
    if (key == "name" && value.is_string()) {
      name = value.get<std::string>();
    } else if (key == "configuration" && value.is_object()) {
      config = value;
    } else {
      return BadChain(options, "codec member \"" + key + "\" is not supported here");
    }
  }
  if (name.empty()) return BadChain(options, "a codec lacks a \"name\"");
  return std::make_pair(std::move(name), std::move(config));
}

}  // namespace

Result<Zarr3CodecChain> ParseCodecChain(const json& codecs, DType dtype, std::size_t rank,
                                        const CodecParseOptions& options) {
  if (!codecs.is_array()) return BadChain(options, "must be a list");
  enum Stage { kArrayToArray, kBytesToBytes } stage = kArrayToArray;
  Zarr3CodecChain chain;
  bool have_array_to_bytes = false;
  std::int64_t item_size = kUnknownItemSize;
  for (const json& entry : codecs) {
    STOWAGE_ASSIGN_OR_RETURN(auto named, NameAndConfiguration(entry, options));
    const std::string& name = named.first;
    Config config(std::move(named.second), name, options);
    bool array_to_bytes = name == "bytes" || name == "sharding_indexed";
    if (name == "transpose") {
      if (stage != kArrayToArray) return BadChain(options, "transpose after an array->bytes codec");
      STOWAGE_ASSIGN_OR_RETURN(auto t, ParseTranspose(config, rank));
      chain.transposes.push_back(std::move(t));
    } else if (array_to_bytes) {
      if (stage != kArrayToArray) return BadChain(options, "more than one array->bytes codec");
      stage = kBytesToBytes;
      have_array_to_bytes = true;
      if (name == "bytes") {
        STOWAGE_ASSIGN_OR_RETURN(chain.bytes, ParseBytes(config, dtype));
        item_size = static_cast<std::int64_t>(ItemSize(dtype));
      } else {
        STOWAGE_ASSIGN_OR_RETURN(chain.sharding, ParseSharding(config, dtype, rank));
      }
    } else if (name == "zstd" || name == "gzip" || name == "blosc" || name == "crc32c") {
      if (!have_array_to_bytes) {
        if (options.stored) return BadChain(options, "array -> bytes codec must be specified");
        have_array_to_bytes = true;  // TensorStore inserts `bytes` in host (little) order
        chain.bytes.endian = ItemSize(dtype) == 1 ? std::nullopt : std::optional(Endian::kLittle);
        item_size = static_cast<std::int64_t>(ItemSize(dtype));
      }
      stage = kBytesToBytes;
      Zarr3BytesToBytesCodec codec;
      if (name == "zstd") {
        STOWAGE_ASSIGN_OR_RETURN(codec, ParseZstd(config));
      } else if (name == "gzip") {
        STOWAGE_ASSIGN_OR_RETURN(codec, ParseGzip(config));
      } else if (name == "blosc") {
        STOWAGE_ASSIGN_OR_RETURN(codec, ParseBlosc(config, item_size));
      } else {
        codec = Zarr3Crc32cCodec{};
      }
      chain.bytes_to_bytes.push_back(std::move(codec));
      item_size = kUnknownItemSize;
    } else {
      return UnsupportedError(options.where + ": zarr3 codec \"" + name + "\" is not supported");
    }
    STOWAGE_RETURN_IF_ERROR(config.Finish());
  }
  if (!have_array_to_bytes) {
    if (options.stored) return BadChain(options, "array -> bytes codec must be specified");
    chain.bytes.endian = ItemSize(dtype) == 1 ? std::nullopt : std::optional(Endian::kLittle);
  }
  if (chain.sharding && !chain.bytes_to_bytes.empty()) {
    return UnsupportedError(options.where +
                            ": bytes -> bytes codecs after sharding_indexed are not supported "
                            "(TensorStore rejects them; give them as inner codecs)");
  }
  return chain;
}

namespace {

json Named(std::string_view name, json configuration = json::object()) {
  json codec = {{"name", name}};
  if (!configuration.empty()) codec["configuration"] = std::move(configuration);
  return codec;
}

struct BytesToBytesJson {
  json operator()(const Zarr3ZstdCodec& c) const {
    return Named("zstd", {{"checksum", c.checksum}, {"level", c.level}});
  }
  json operator()(const Zarr3GzipCodec& c) const { return Named("gzip", {{"level", c.level}}); }
  json operator()(const Zarr3BloscCodec& c) const {
    static constexpr const char* kShuffleNames[] = {"noshuffle", "shuffle", "bitshuffle"};
    json config = {{"blocksize", c.blocksize},
                   {"clevel", c.clevel},
                   {"cname", c.cname},
                   {"shuffle", kShuffleNames[c.shuffle]}};
    if (c.shuffle != Zarr3BloscCodec::kNoShuffle) config["typesize"] = c.typesize;
    return Named("blosc", std::move(config));
  }
  json operator()(const Zarr3Crc32cCodec&) const { return Named("crc32c"); }
};

json ShardingToJson(const Zarr3ShardingCodec& s) {
  json config = {{"chunk_shape", s.chunk_shape},
                 {"codecs", CodecChainToJson(s.codecs)},
                 {"index_codecs", CodecChainToJson(s.index_codecs)}};
  if (s.index_at_start) config["index_location"] = "start";  // "end" is not written
  return Named("sharding_indexed", std::move(config));
}

}  // namespace

json CodecChainToJson(const Zarr3CodecChain& chain) {
  json list = json::array();
  for (const auto& t : chain.transposes) list.push_back(Named("transpose", {{"order", t.order}}));
  if (chain.sharding) {
    list.push_back(ShardingToJson(*chain.sharding));
  } else if (chain.bytes.endian) {
    list.push_back(
        Named("bytes", {{"endian", *chain.bytes.endian == Endian::kLittle ? "little" : "big"}}));
  } else {
    list.push_back(Named("bytes"));
  }
  for (const auto& c : chain.bytes_to_bytes) list.push_back(std::visit(BytesToBytesJson{}, c));
  return list;
}

}  // namespace stowage::zarr
