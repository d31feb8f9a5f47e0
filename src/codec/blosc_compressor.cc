#include "codec/blosc_compressor.h"

#include <blosc.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "codec/params.h"

namespace stowage::codec {
namespace {

constexpr std::string_view kId = "blosc";

// The inner codecs numcodecs names; each may be missing from a c-blosc build.
constexpr std::array<std::string_view, 6> kCnames = {"blosclz", "lz4",  "lz4hc",
                                                     "snappy",  "zlib", "zstd"};

// OkStatus if c-blosc can compress with `cname`.
Status CheckCname(const std::string& cname) {
  if (std::find(kCnames.begin(), kCnames.end(), cname) == kCnames.end()) {
    return UnsupportedError("compressor \"blosc\": unknown cname \"" + cname + "\"");
  }
  if (blosc_compname_to_compcode(cname.c_str()) < 0) {
    return UnsupportedError("compressor \"blosc\": cname \"" + cname +
                            "\" is not available in this build of c-blosc (" +
                            blosc_list_compressors() + ")");
  }
  return OkStatus();
}

// c-blosc's shuffle code for numcodecs' `shuffle` on elements of `item_size`.
int ResolveShuffle(int shuffle, std::size_t item_size) {
  if (shuffle != BloscCompressor::kAutoShuffle) return shuffle;
  return item_size == 1 ? BLOSC_BITSHUFFLE : BLOSC_SHUFFLE;
}

// The header's sizes, checked against the buffers before any decompression.
// Returns the compressed size the header claims.
Result<std::size_t> CheckHeader(std::span<const std::byte> input, std::size_t expected) {
  if (input.size() < BLOSC_MIN_HEADER_LENGTH) {
    return internal::CodecDataLoss(
        kId, "input of " + std::to_string(input.size()) + " bytes is shorter than a blosc header");
  }
  std::size_t nbytes = 0, cbytes = 0, blocksize = 0;
  blosc_cbuffer_sizes(input.data(), &nbytes, &cbytes, &blocksize);
  if (cbytes == 0) return internal::CodecDataLoss(kId, "unknown blosc format version");
  if (cbytes > input.size()) {
    return internal::CodecDataLoss(kId, "truncated input: header says " + std::to_string(cbytes) +
                                            " bytes, have " + std::to_string(input.size()));
  }
  if (blosc_cbuffer_validate(input.data(), cbytes, &nbytes) != 0) {
    return internal::CodecDataLoss(kId, "invalid blosc header");
  }
  STOWAGE_RETURN_IF_ERROR(internal::CheckDecodedSize(kId, nbytes, expected));
  return cbytes;
}

}  // namespace

BloscCompressor::BloscCompressor(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<Compressor>> BloscCompressor::FromJson(const nlohmann::json& config) {
  Options options;
  STOWAGE_ASSIGN_OR_RETURN(options.cname,
                           internal::StringParam(config, kId, "cname", options.cname));
  STOWAGE_RETURN_IF_ERROR(CheckCname(options.cname));
  STOWAGE_ASSIGN_OR_RETURN(auto clevel,
                           internal::IntParam(config, kId, "clevel", options.clevel, 0, 9));
  STOWAGE_ASSIGN_OR_RETURN(auto shuffle, internal::IntParam(config, kId, "shuffle", options.shuffle,
                                                            kAutoShuffle, kBitShuffle));
  STOWAGE_ASSIGN_OR_RETURN(auto blocksize,
                           internal::IntParam(config, kId, "blocksize", 0, 0, BLOSC_MAX_BLOCKSIZE));
  options.clevel = static_cast<int>(clevel);
  options.shuffle = static_cast<int>(shuffle);
  options.blocksize = static_cast<std::size_t>(blocksize);
  return std::unique_ptr<Compressor>(std::make_unique<BloscCompressor>(std::move(options)));
}

Result<Bytes> BloscCompressor::Encode(std::span<const std::byte> input,
                                      std::size_t item_size) const {
  if (input.size() > BLOSC_MAX_BUFFERSIZE) {
    return InvalidArgumentError("blosc: cannot compress " + std::to_string(input.size()) +
                                " bytes (limit " + std::to_string(BLOSC_MAX_BUFFERSIZE) + ")");
  }
  std::size_t typesize = item_size == 0 || item_size > BLOSC_MAX_TYPESIZE ? 1 : item_size;
  Bytes output(input.size() + BLOSC_MAX_OVERHEAD);
  int size = blosc_compress_ctx(options_.clevel, ResolveShuffle(options_.shuffle, item_size),
                                typesize, input.size(), input.data(), output.data(), output.size(),
                                options_.cname.c_str(), options_.blocksize,
                                /*numinternalthreads=*/1);
  if (size <= 0) {
    return InternalError("blosc: compression failed (code " + std::to_string(size) + ")");
  }
  output.resize(static_cast<std::size_t>(size));
  return output;
}

Status BloscCompressor::DecodeInto(std::span<const std::byte> input,
                                   std::span<std::byte> output) const {
  STOWAGE_RETURN_IF_ERROR(CheckHeader(input, output.size()));
  if (output.empty()) return OkStatus();
  int size = blosc_decompress_ctx(input.data(), output.data(), output.size(),
                                  /*numinternalthreads=*/1);
  if (size < 0) return internal::CodecDataLoss(kId, "corrupt input");
  return internal::CheckDecodedSize(kId, static_cast<std::size_t>(size), output.size());
}

nlohmann::json BloscCompressor::ToJson() const {
  return {{"id", kId},
          {"cname", options_.cname},
          {"clevel", options_.clevel},
          {"shuffle", options_.shuffle},
          {"blocksize", options_.blocksize}};
}

}  // namespace stowage::codec
