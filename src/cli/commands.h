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

// Where a manager root's steps are and how to name them (ls, rm).
struct ManagerRootOptions {
  std::string root;
  std::string step_prefix;               // Orbax step_prefix
  std::optional<int> step_fixed_length;  // Orbax step_format_fixed_length
};

struct LsOptions {
  ManagerRootOptions where;
  // The retention policy whose decisions are shown (the manager's options;
  // they are not stored on disk).
  std::optional<std::int64_t> max_to_keep;
  std::optional<std::int64_t> keep_period;
  std::optional<std::int64_t> keep_time_interval_seconds;
  std::string best_metric;  // empty: rank by recency
  std::string best_mode = "max";
  bool delete_without_metrics = false;  // Orbax keep_checkpoints_without_metrics=False
  bool json = false;
};

struct RmOptions {
  ManagerRootOptions where;
  std::int64_t step = 0;
};

Status RunImport(const ImportOptions& options);
Status RunExport(const ExportOptions& options);
Status RunInspect(const InspectOptions& options);
Status RunVerify(const VerifyOptions& options);
Status RunLs(const LsOptions& options);
Status RunRm(const RmOptions& options);

}  // namespace stowage::cli
