#include "codec/zlib_compressor.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <string>

#include "codec/params.h"

namespace stowage::codec {
namespace {

constexpr int kMaxWindowBits = 15;
constexpr int kGzipWindowBits = kMaxWindowBits + 16;        // gzip header only
constexpr int kAutoDetectWindowBits = kMaxWindowBits + 32;  // gzip or zlib header

// At most UINT_MAX bytes: z_stream counts in uInt.
uInt Window(std::size_t remaining) {
  return static_cast<uInt>(std::min<std::size_t>(remaining, UINT_MAX));
}

Bytef* ZPtr(const std::byte* p) { return reinterpret_cast<Bytef*>(const_cast<std::byte*>(p)); }

// Owns a z_stream set up for deflate or inflate; ends it on destruction.
class ZStream {
 public:
  explicit ZStream(bool deflating) : deflating_(deflating) {}
  ~ZStream() {
    if (!initialized_) return;
    deflating_ ? deflateEnd(&stream_) : inflateEnd(&stream_);
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;

  // Records a zlib init call's result; false when it failed.
  bool Initialized(int init_result) { return initialized_ = init_result == Z_OK; }
  z_stream* get() { return &stream_; }

 private:
  z_stream stream_{};
  bool deflating_;
  bool initialized_ = false;
};

// The DEFLATE compression of `input` framed per `window_bits`.
Result<Bytes> Deflate(std::span<const std::byte> input, int level, int window_bits) {
  ZStream stream(/*deflating=*/true);
  z_stream* s = stream.get();
  if (!stream.Initialized(deflateInit2(s, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY))) {
    return InternalError("zlib: deflateInit2 failed");
  }
  Bytes output(deflateBound(s, input.size()));
  std::size_t in_pos = 0, out_pos = 0;
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    if (out_pos == output.size()) output.resize(output.size() * 2 + 64);
    uInt in_avail = Window(input.size() - in_pos), out_avail = Window(output.size() - out_pos);
    s->next_in = ZPtr(input.data() + in_pos);
    s->avail_in = in_avail;
    s->next_out = ZPtr(output.data() + out_pos);
    s->avail_out = out_avail;
    bool last = in_pos + in_avail == input.size();
    rc = deflate(s, last ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) return InternalError("zlib: deflate failed");
    in_pos += in_avail - s->avail_in;
    out_pos += out_avail - s->avail_out;
  }
  output.resize(out_pos);
  return output;
}

// Inflates `input` into exactly `output`. With `multi_member`, further
// streams may follow the first (gzip members); otherwise trailing bytes are
// an error. Output beyond output.size() goes to a one-byte sink, and is an
// error as soon as one byte lands there.
Status Inflate(std::string_view id, std::span<const std::byte> input, std::span<std::byte> output,
               int window_bits, bool multi_member) {
  ZStream stream(/*deflating=*/false);
  z_stream* s = stream.get();
  if (!stream.Initialized(inflateInit2(s, window_bits))) {
    return InternalError("zlib: inflateInit2 failed");
  }
  std::size_t in_pos = 0, out_pos = 0;
  std::byte sink;
  while (true) {
    bool full = out_pos == output.size();
    uInt in_avail = Window(input.size() - in_pos);
    uInt out_avail = full ? 1 : Window(output.size() - out_pos);
    s->next_in = ZPtr(input.data() + in_pos);
    s->avail_in = in_avail;
    s->next_out = ZPtr(full ? &sink : output.data() + out_pos);
    s->avail_out = out_avail;
    int rc = inflate(s, Z_NO_FLUSH);
    std::size_t consumed = in_avail - s->avail_in, produced = out_avail - s->avail_out;
    in_pos += consumed;
    if (full && produced > 0) {
      return internal::CodecDataLoss(
          id, "decodes to more than " + std::to_string(output.size()) + " bytes");
    }
    out_pos += produced;
    if (rc == Z_STREAM_END) {
      if (in_pos == input.size()) break;
      if (!multi_member) return internal::CodecDataLoss(id, "trailing bytes after the stream");
      inflateReset(s);
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return internal::CodecDataLoss(
          id, std::string("corrupt input: ") + (s->msg != nullptr ? s->msg : "inflate failed"));
    }
    if (consumed == 0 && produced == 0) return internal::CodecDataLoss(id, "truncated input");
  }
  return internal::CheckDecodedSize(id, out_pos, output.size());
}

Result<std::unique_ptr<Compressor>> FromJson(const nlohmann::json& config,
                                             ZlibCompressor::Format format, std::string_view id) {
  STOWAGE_ASSIGN_OR_RETURN(
      std::int64_t level,
      internal::IntParam(config, id, "level", ZlibCompressor::kDefaultLevel, -1, 9));
  return std::unique_ptr<Compressor>(
      std::make_unique<ZlibCompressor>(format, static_cast<int>(level)));
}

}  // namespace

ZlibCompressor::ZlibCompressor(Format format, int level) : format_(format), level_(level) {}

Result<std::unique_ptr<Compressor>> ZlibCompressor::ZlibFromJson(const nlohmann::json& config) {
  return FromJson(config, Format::kZlib, "zlib");
}

Result<std::unique_ptr<Compressor>> ZlibCompressor::GzipFromJson(const nlohmann::json& config) {
  return FromJson(config, Format::kGzip, "gzip");
}

std::string_view ZlibCompressor::id() const { return format_ == Format::kZlib ? "zlib" : "gzip"; }

Result<Bytes> ZlibCompressor::Encode(std::span<const std::byte> input, std::size_t) const {
  return Deflate(input, level_, format_ == Format::kZlib ? kMaxWindowBits : kGzipWindowBits);
}

Status ZlibCompressor::DecodeInto(std::span<const std::byte> input,
                                  std::span<std::byte> output) const {
  if (format_ == Format::kZlib) return Inflate(id(), input, output, kMaxWindowBits, false);
  return Inflate(id(), input, output, kAutoDetectWindowBits, true);
}

nlohmann::json ZlibCompressor::ToJson() const { return {{"id", id()}, {"level", level_}}; }

}  // namespace stowage::codec
