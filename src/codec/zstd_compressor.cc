#include "codec/zstd_compressor.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>

#include "codec/params.h"

namespace stowage::codec {
namespace {

constexpr std::string_view kId = "zstd";

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

// This thread's compression context (created on first use; null if zstd
// could not allocate one). Callers reset it before use.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

// This thread's decompression context (null if it could not be allocated).
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Applies the frame parameters of one Encode call to a reset context.
Status ConfigureCCtx(ZSTD_CCtx* cctx, int level, bool checksum) {
  const std::pair<ZSTD_cParameter, int> settings[] = {
      {ZSTD_c_compressionLevel, level},
      {ZSTD_c_checksumFlag, checksum ? 1 : 0},
      {ZSTD_c_contentSizeFlag, 1},
  };
  for (const auto& [param, value] : settings) {
    std::size_t rc = ZSTD_CCtx_setParameter(cctx, param, value);
    if (ZSTD_isError(rc)) {
      return InternalError(std::string("zstd: cannot set parameter: ") + ZSTD_getErrorName(rc));
    }
  }
  return OkStatus();
}

}  // namespace

ZstdCompressor::ZstdCompressor(int level, bool checksum)
    : level_(level), checksum_(checksum), checksum_in_json_(checksum) {}

Result<std::unique_ptr<Compressor>> ZstdCompressor::FromJson(const nlohmann::json& config) {
  STOWAGE_ASSIGN_OR_RETURN(
      std::int64_t level,
      internal::IntParam(config, kId, "level", kDefaultLevel, ZSTD_minCLevel(), ZSTD_maxCLevel()));
  STOWAGE_ASSIGN_OR_RETURN(bool checksum, internal::BoolParam(config, kId, "checksum", true));
  auto compressor = std::make_unique<ZstdCompressor>(static_cast<int>(level), checksum);
  compressor->checksum_in_json_ = checksum && config.contains("checksum");
  return std::unique_ptr<Compressor>(std::move(compressor));
}

namespace {
// Inputs at least this large are compressed with zstd's worker threads
// (ignored by a libzstd built without multithreading).
constexpr std::size_t kMultithreadThreshold = std::size_t{16} << 20;
}  // namespace

Result<Bytes> ZstdCompressor::Encode(std::span<const std::byte> input, std::size_t) const {
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (cctx == nullptr) return ResourceExhaustedError("zstd: cannot allocate a context");
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  STOWAGE_RETURN_IF_ERROR(ConfigureCCtx(cctx, level_, checksum_));
  // One large chunk (Orbax's default is one chunk per array) would keep one
  // core busy and the others idle: let zstd compress it with several workers.
  // The result is still one ordinary frame.
  if (input.size() >= kMultithreadThreshold) {
    std::size_t workers = std::min<std::size_t>(std::thread::hardware_concurrency(),
                                                input.size() / (kMultithreadThreshold / 2));
    if (workers > 1) ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, static_cast<int>(workers));
  }
  Bytes output(ZSTD_compressBound(input.size()));
  std::size_t size = ZSTD_compress2(cctx, output.data(), output.size(), input.data(), input.size());
  if (ZSTD_isError(size)) {
    return InternalError(std::string("zstd: compression failed: ") + ZSTD_getErrorName(size));
  }
  output.resize(size);
  return output;
}

// Single-pass decompression decodes frames without a content size too: it
// writes straight into `output`, never past output.size(), and needs no
// window buffer (unlike streaming, which would allocate one as large as a
// frame claims).
Status ZstdCompressor::DecodeInto(std::span<const std::byte> input,
                                  std::span<std::byte> output) const {
  if (input.empty()) return internal::CodecDataLoss(kId, "empty input is not a zstd frame");
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (dctx == nullptr) return ResourceExhaustedError("zstd: cannot allocate a context");
  std::size_t size =
      ZSTD_decompressDCtx(dctx, output.data(), output.size(), input.data(), input.size());
  if (ZSTD_isError(size)) {
    if (ZSTD_getErrorCode(size) == ZSTD_error_dstSize_tooSmall) {
      return internal::CodecDataLoss(
          kId, "decodes to more than " + std::to_string(output.size()) + " bytes");
    }
    return internal::CodecDataLoss(
        kId, std::string("corrupt or truncated input: ") + ZSTD_getErrorName(size));
  }
  return internal::CheckDecodedSize(kId, size, output.size());
}

nlohmann::json ZstdCompressor::ToJson() const {
  nlohmann::json json = {{"id", kId}, {"level", level_}};
  if (checksum_in_json_) json["checksum"] = true;
  return json;
}

namespace {

// Streams a frame without a recorded content size, growing the output as the
// frame actually produces bytes (never beyond max_size).
Result<Bytes> StreamFrame(std::span<const std::byte> frame, std::size_t max_size) {
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (dctx == nullptr) return ResourceExhaustedError("zstd: cannot allocate a context");
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  Bytes output(std::min<std::size_t>(max_size, std::max<std::size_t>(frame.size() * 4, 4096)));
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  ZSTD_outBuffer out{output.data(), output.size(), 0};
  while (true) {
    std::size_t rc = ZSTD_decompressStream(dctx, &out, &in);
    if (ZSTD_isError(rc)) {
      return internal::CodecDataLoss(
          kId, std::string("corrupt or truncated frame: ") + ZSTD_getErrorName(rc));
    }
    if (rc == 0) break;  // frame complete
    if (out.pos < out.size) {
      if (in.pos == in.size) return internal::CodecDataLoss(kId, "truncated frame");
      continue;
    }
    if (output.size() >= max_size) {
      return internal::CodecDataLoss(kId,
                                     "decodes to more than " + std::to_string(max_size) + " bytes");
    }
    output.resize(std::min(max_size, output.size() * 2));
    out.dst = output.data();
    out.size = output.size();
  }
  output.resize(out.pos);
  return output;
}

}  // namespace

Result<Bytes> ZstdDecompressFrame(std::span<const std::byte> frame, std::size_t max_size) {
  std::size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) {
    return internal::CodecDataLoss(
        kId, std::string("not a complete zstd frame: ") + ZSTD_getErrorName(frame_size));
  }
  if (frame_size != frame.size()) {
    return internal::CodecDataLoss(
        kId, std::to_string(frame.size() - frame_size) + " bytes follow the frame");
  }
  unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return internal::CodecDataLoss(kId, "bad frame header");
  if (content == ZSTD_CONTENTSIZE_UNKNOWN) return StreamFrame(frame, max_size);
  if (content > max_size) {
    return internal::CodecDataLoss(kId, "frame claims " + std::to_string(content) +
                                            " bytes, more than the " + std::to_string(max_size) +
                                            " allowed");
  }
  Bytes output(content);
  STOWAGE_RETURN_IF_ERROR(ZstdCompressor().DecodeInto(frame, output));
  return output;
}

}  // namespace stowage::codec
