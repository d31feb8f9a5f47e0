// NumPy `.npz` archives (numpy.savez / numpy.load): a zip file holding one
// `.npy` member per array, "<name>.npy". Zip handling is libzip's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stowage/array.h"

namespace stowage::npy {

struct NamedArray {
  std::string name;  // the member name without ".npy"
  Array array;
};

// Every array of the archive at `path`, in member order. Errors: kNotFound,
// kDataLoss (not a zip, a member that is not a valid .npy, naming both),
// kResourceExhausted (a member larger than `max_bytes`; 0 = physical memory).
Result<std::vector<NamedArray>> ReadNpzFile(const std::filesystem::path& path,
                                            std::uint64_t max_bytes = 0);

// Like ReadNpzFile, from the archive's bytes in memory; `where` names it in
// errors. Errors: kDataLoss, kResourceExhausted.
Result<std::vector<NamedArray>> DecodeNpz(std::span<const std::byte> archive_bytes,
                                          std::string_view where, std::uint64_t max_bytes = 0);

// Writes the arrays as an uncompressed archive numpy.load reads (members
// "<name>.npy", as numpy.savez writes them), replacing `path`.
// Errors: kInvalidArgument (an empty or duplicate name), kIo.
Status WriteNpzFile(const std::filesystem::path& path,
                    const std::vector<std::pair<std::string, ArrayView>>& arrays);

}  // namespace stowage::npy
