// Reading and writing whole .npy files: bounds checks before allocation,
// large reads and writes, byte swapping and Fortran-to-C transposition.
#include "npy/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace stowage::npy {
namespace {

static_assert(std::endian::native == std::endian::little,
              "stowage keeps arrays little-endian in memory");

// Linux transfers at most ~2 GiB per read()/write() call.
constexpr std::size_t kMaxIoChunk = std::size_t{1} << 30;

Error OsError(int errnum, std::string_view operation, const std::filesystem::path& path) {
  std::string message = std::string(operation) + " " + path.string() + ": " + std::strerror(errnum);
  switch (errnum) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(message));
    default:
      return IoError(std::move(message));
  }
}

// Closes the descriptor on scope exit (read paths, where close errors do not
// matter).
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Fills `out` from `fd` at `offset`, or kDataLoss when the file ends first.
Status ReadAt(int fd, std::size_t offset, std::span<std::byte> out,
              const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t want = std::min(out.size() - done, kMaxIoChunk);
    ssize_t n = ::pread(fd, out.data() + done, want, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsError(errno, "read", path);
    }
    if (n == 0) return DataLossError(path.string() + ": file shrank while reading");
    done += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Status WriteAll(int fd, std::span<const std::byte> data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), std::min(data.size(), kMaxIoChunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsError(errno, "write", path);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return OkStatus();
}

template <std::size_t kSize>
void SwapUnits(std::span<std::byte> data) {
  for (std::size_t i = 0; i + kSize <= data.size(); i += kSize) {
    std::reverse(data.data() + i, data.data() + i + kSize);
  }
}

// Makes big-endian elements little-endian (complex parts swap separately).
void SwapToLittleEndian(DType dtype, std::span<std::byte> data) {
  std::size_t unit = ItemSize(dtype);
  if (KindOf(dtype) == DTypeKind::kComplex) unit /= 2;
  switch (unit) {
    case 2:
      return SwapUnits<2>(data);
    case 4:
      return SwapUnits<4>(data);
    case 8:
      return SwapUnits<8>(data);
  }
}

template <std::size_t kItem>
void TransposeItems(const std::byte* src, std::byte* dst, const Shape& shape) {
  // Walks the source in its (Fortran) order, dimension 0 fastest, writing each
  // element at its C-order position. REQUIRES: rank >= 2, no zero dimension.
  struct Dim {
    std::size_t extent;
    std::size_t c_stride;  // bytes
    std::size_t index;
  };
  std::vector<Dim> dims(shape.size());
  std::size_t stride = kItem;
  for (std::size_t k = dims.size(); k-- > 0;) {
    dims[k] = {static_cast<std::size_t>(shape[k]), stride, 0};
    stride *= dims[k].extent;
  }
  const std::byte* const end = src + stride;
  const std::size_t n0 = dims[0].extent;
  const std::size_t step0 = dims[0].c_stride;
  std::size_t base = 0;
  while (src != end) {
    for (std::size_t i = 0; i < n0; ++i, src += kItem) {
      std::memcpy(dst + base + i * step0, src, kItem);
    }
    for (auto dim = dims.begin() + 1; dim != dims.end(); ++dim) {
      base += dim->c_stride;
      if (++dim->index < dim->extent) break;
      base -= dim->c_stride * dim->extent;
      dim->index = 0;
    }
  }
}

// Copies Fortran-ordered `src` into C-ordered `dst` (same shape and size).
void FortranToC(DType dtype, std::span<const std::byte> src, std::span<std::byte> dst,
                const Shape& shape) {
  if (src.empty()) return;
  switch (ItemSize(dtype)) {
    case 1:
      return TransposeItems<1>(src.data(), dst.data(), shape);
    case 2:
      return TransposeItems<2>(src.data(), dst.data(), shape);
    case 4:
      return TransposeItems<4>(src.data(), dst.data(), shape);
    case 8:
      return TransposeItems<8>(src.data(), dst.data(), shape);
    case 16:
      return TransposeItems<16>(src.data(), dst.data(), shape);
  }
}

// Builds the Array for `header` once its data size is known to be present in
// the input. `fill(span)` copies the data bytes into span; it is called once,
// directly on the result's buffer unless the data is in Fortran order.
template <typename Fill>
Result<Array> DecodeData(const NpyHeader& header, Fill fill) {
  STOWAGE_ASSIGN_OR_RETURN(Array array, Array::Uninitialized(header.dtype, header.shape));
  bool transpose = header.fortran_order && header.shape.size() > 1;
  Array scratch;
  if (transpose) {
    STOWAGE_ASSIGN_OR_RETURN(scratch, Array::Uninitialized(header.dtype, header.shape));
  }
  std::span<std::byte> raw = transpose ? scratch.mutable_bytes() : array.mutable_bytes();
  STOWAGE_RETURN_IF_ERROR(fill(raw));
  if (header.big_endian) SwapToLittleEndian(header.dtype, raw);
  if (header.dtype == DType::kBool) {
    // Any nonzero byte is True in NumPy; keep stowage's bools 0 or 1.
    for (std::byte& b : raw) b = std::byte{b != std::byte{0}};
  }
  if (transpose) FortranToC(header.dtype, raw, array.mutable_bytes(), header.shape);
  return array;
}

// kDataLoss unless `available` bytes after the header hold the array data.
Result<std::size_t> CheckDataSize(const NpyHeader& header, std::uint64_t available,
                                  std::string_view path) {
  std::size_t needed = NumBytes(header.shape, header.dtype).value();  // checked by the parser
  if (needed > available) {
    return DataLossError(
        std::string(path) + ": truncated .npy data: " + std::string(DTypeName(header.dtype)) +
        " shape " + ShapeToString(header.shape) + " needs " + std::to_string(needed) +
        " bytes after the header, the file has " + std::to_string(available));
  }
  return needed;
}

}  // namespace

Result<Array> DecodeNpy(std::span<const std::byte> file_bytes, std::string_view path_for_errors) {
  STOWAGE_ASSIGN_OR_RETURN(NpyHeader header, ParseNpyHeader(file_bytes, path_for_errors));
  std::span<const std::byte> rest = file_bytes.subspan(header.data_offset);
  STOWAGE_ASSIGN_OR_RETURN(std::size_t size, CheckDataSize(header, rest.size(), path_for_errors));
  return DecodeData(header, [&](std::span<std::byte> out) -> Status {
    if (size > 0) std::memcpy(out.data(), rest.data(), size);
    return OkStatus();
  });
}

Result<Array> ReadNpyFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError(errno, "open", path);
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return OsError(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError(path.string() + " is not a regular file");
  }
  const std::size_t file_size = static_cast<std::size_t>(st.st_size);

  // The preamble says how long the header is; read exactly that much.
  Bytes head(std::min(file_size, kNpyPreambleBytes));
  STOWAGE_RETURN_IF_ERROR(ReadAt(fd, 0, head, path));
  STOWAGE_ASSIGN_OR_RETURN(std::size_t data_offset, NpyDataOffset(head, path.string()));
  if (data_offset > file_size) {
    return DataLossError(path.string() + ": truncated .npy header (" + std::to_string(data_offset) +
                         " bytes announced, the file has " + std::to_string(file_size) + ")");
  }
  head.resize(data_offset);
  STOWAGE_RETURN_IF_ERROR(ReadAt(fd, 0, head, path));
  STOWAGE_ASSIGN_OR_RETURN(NpyHeader header, ParseNpyHeader(head, path.string()));
  STOWAGE_ASSIGN_OR_RETURN(std::size_t size,
                           CheckDataSize(header, file_size - data_offset, path.string()));
  return DecodeData(header, [&](std::span<std::byte> out) {
    return ReadAt(fd, data_offset, out.first(size), path);
  });
}

Status WriteNpyFile(const std::filesystem::path& path, const ArrayView& array) {
  auto expected = NumBytes(array.shape(), array.dtype());
  if (!expected.has_value() || *expected != array.bytes().size()) {
    return InvalidArgumentError("cannot write " + path.string() + ": " +
                                std::to_string(array.bytes().size()) + " bytes do not hold a " +
                                std::string(DTypeName(array.dtype())) + " array of shape " +
                                ShapeToString(array.shape()));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return OsError(errno, "create", path);
  FdCloser closer(fd);
  STOWAGE_RETURN_IF_ERROR(WriteAll(fd, EncodeNpyHeader(array), path));
  STOWAGE_RETURN_IF_ERROR(WriteAll(fd, array.bytes(), path));
  if (::close(closer.Release()) != 0) return OsError(errno, "close", path);
  return OkStatus();
}

}  // namespace stowage::npy
