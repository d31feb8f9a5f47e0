// stowage layer: npy
//
// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0, 3.0).
// Reads accept C and Fortran order and any byte order, and always return a
// C-ordered, native little-endian Array. Writes are C order, little-endian,
// byte for byte what NumPy 1.24's np.save writes for the same array.
// bfloat16 and float8 use the descr names ml_dtypes registers with NumPy.
// Every failure names the file; malformed input gives kDataLoss, valid input
// stowage cannot represent (structured, object, void dtypes) kUnsupported.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "stowage/array.h"
#include "stowage/dtype.h"
#include "stowage/error.h"

namespace stowage::npy {

// Header fields of a .npy file.
struct NpyHeader {
  DType dtype = DType::kFloat32;
  Shape shape;
  bool fortran_order = false;
  bool big_endian = false;
  // Offset of the first data byte: magic, version, length field and header.
  std::size_t data_offset = 0;
};

// Enough leading bytes of a file for NpyDataOffset (magic, version, length).
inline constexpr std::size_t kNpyPreambleBytes = 12;

// The data offset announced by the preamble at the start of `prefix`, without
// parsing the header dict. kDataLoss when `prefix` is not a .npy preamble or
// too short to hold one; kUnsupported for a format version other than 1.0,
// 2.0 or 3.0.
Result<std::size_t> NpyDataOffset(std::span<const std::byte> prefix,
                                  std::string_view path_for_errors);

// Parses the header at the start of `prefix` (the first bytes of a file, at
// least data_offset of them, else kDataLoss "truncated"). Checks the fields
// only: the shape is non-negative and its byte size fits in 64 bits, but the
// data is not looked at.
Result<NpyHeader> ParseNpyHeader(std::span<const std::byte> prefix,
                                 std::string_view path_for_errors);

// Reads a whole .npy file. Allocates only after checking the file is large
// enough for the shape; bytes after the array data are ignored (as np.load
// does). kNotFound when the file is absent, kIo for other OS errors.
Result<Array> ReadNpyFile(const std::filesystem::path& path);

// Like ReadNpyFile, from the file's bytes in memory.
Result<Array> DecodeNpy(std::span<const std::byte> file_bytes, std::string_view path_for_errors);

// Writes `array` as a .npy file at `path`, replacing any file there (not
// atomically: the caller renames into place if it needs that). Errors name
// `path`: kNotFound for a missing directory, kResourceExhausted for a full
// disk, kIo otherwise.
Status WriteNpyFile(const std::filesystem::path& path, const ArrayView& array);

// Magic, version, length and padded header for `array`: version 1.0 when the
// header fits in 65535 bytes, else 2.0; data starts at a multiple of 64.
Bytes EncodeNpyHeader(const ArrayView& array);

// The descr stowage writes for `dtype`: '|b1', '<f4', 'bfloat16', ...
std::string DescrOf(DType dtype);

// A descr string (without quotes) as a DType and byte order.
struct NpyDescr {
  DType dtype = DType::kFloat32;
  bool big_endian = false;  // only ever set for multi-byte types
};

// Parses a descr: '<f4', '>i8', '|b1', '=u2', 'bfloat16', ... kUnsupported
// (naming the descr) for valid NumPy descrs stowage has no DType for: void
// ('|V2', which suggests --dtype), object, strings, datetimes, and any other.
Result<NpyDescr> ParseNpyDescr(std::string_view descr, std::string_view path_for_errors);

}  // namespace stowage::npy
