// The CLI's subcommands: each parses nothing itself (main.cc does), calls
// the library, and returns a Status whose code becomes the exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stowage/error.h"

namespace stowage::cli {

struct ImportOptions {
  std::string input;  // .npy file
  std::string directory;
  std::string name = "checkpoint";
  std::string dtype;  // empty: keep
  std::string compression = "zstd";
  std::optional<std::int64_t> chunk_bytes;
  std::optional<std::int64_t> max_chunk_bytes;  // unset: the library's default
  bool scalar = false;                          // save a 0-d array as an Orbax "scalar"
  bool ocdbt = false;                           // store a .npy array inside an OCDBT database
  bool no_ocdbt = false;  // store a .npz tree as zarr folders instead of OCDBT
  bool zarr3 = false;     // store it as zarr3 with the sharding codec
  bool jax = false;       // record arrays as single-device jax.Arrays
  bool force = false;
  bool no_fsync = false;
  std::size_t threads = 0;
  bool quiet = false;
};

struct ExportOptions {
  std::string directory;
  std::string key;  // empty: the only leaf
  std::string output;
  std::string dtype;
  bool allow_missing_chunks = false;
  std::size_t threads = 0;
  bool quiet = false;
};

struct InspectOptions {
  std::string directory;
  bool json = false;
  bool keys = false;  // list every OCDBT key
};

struct VerifyOptions {
  std::string directory;
};

Status RunImport(const ImportOptions& options);
Status RunExport(const ExportOptions& options);
Status RunInspect(const InspectOptions& options);
Status RunVerify(const VerifyOptions& options);

}  // namespace stowage::cli
