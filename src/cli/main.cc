// The `stowage` command line: import, export, inspect and verify checkpoints;
// list and delete the steps of a CheckpointManager root.
// Exit codes: 0 success, 1 unexpected failure, 2 bad usage, and otherwise the
// numeric value of the stowage::ErrorCode (3 not found, 4 invalid argument,
// 5 data loss, 6 unsupported, 7 I/O, 8 already exists, 9 resource
// exhausted, 10 internal) — see docs/cli.md.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

namespace {

using stowage::cli::ExportOptions;
using stowage::cli::ImportOptions;
using stowage::cli::InspectOptions;
using stowage::cli::LsOptions;
using stowage::cli::RmOptions;
using stowage::cli::VerifyOptions;

void AddImport(CLI::App& app, ImportOptions& o) {
  auto* cmd = app.add_subcommand("import",
                                 "Save a .npy array as an Orbax ArrayCheckpointHandler "
                                 "checkpoint (atomically)");
  cmd->add_option("array", o.input, "input .npy file (one array) or .npz file (a tree)")
      ->required();
  cmd->add_option("directory", o.directory, "checkpoint directory to create")->required();
  cmd->add_option("--name", o.name, "leaf name (Orbax checkpoint_name)");
  cmd->add_option("--dtype", o.dtype, "store as this dtype (e.g. bfloat16)");
  cmd->add_option("--compression", o.compression, "zstd or none")
      ->check(CLI::IsMember({"zstd", "none"}));
  cmd->add_option("--chunk-bytes", o.chunk_bytes, "upper bound on a chunk's bytes")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-chunk-bytes", o.max_chunk_bytes,
                  "without --chunk-bytes, cut larger arrays into C-order slabs of at most this "
                  "size (default 16 MiB; 0: one chunk per array, as Orbax)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--scalar", o.scalar, "save a 0-d array as an Orbax scalar");
  cmd->add_flag("--ocdbt", o.ocdbt,
                "store the array in an OCDBT database (as Orbax's PyTree handler)");
  cmd->add_flag("--no-ocdbt", o.no_ocdbt, "store a .npz tree as zarr folders, not in OCDBT");
  cmd->add_flag("--zarr3", o.zarr3, "store arrays as zarr3 with the sharding codec");
  cmd->add_flag("--jax", o.jax,
                "record arrays as jax.Arrays on cpu:0 (with _sharding), as Orbax saves them");
  cmd->add_flag("--force", o.force, "replace an existing checkpoint");
  cmd->add_flag("--no-fsync", o.no_fsync, "skip fsync (faster, not crash-safe)");
  cmd->add_option("--threads", o.threads, "worker threads (0 = one per core)");
  cmd->add_flag("-q,--quiet", o.quiet, "no progress output");
}

void AddExport(CLI::App& app, ExportOptions& o) {
  auto* cmd = app.add_subcommand("export", "Restore one leaf of a checkpoint to a .npy file");
  cmd->add_option("directory", o.directory, "checkpoint directory")->required();
  cmd->add_option("key", o.key, "leaf name (default: the only leaf)");
  cmd->add_option("-o,--output", o.output,
                  "output .npy file (one leaf), or .npz file (the whole tree when KEY is absent)")
      ->required();
  cmd->add_option("--dtype", o.dtype, "convert to this dtype");
  cmd->add_flag("--allow-missing-chunks", o.allow_missing_chunks,
                "read missing chunks as the fill value");
  cmd->add_option("--threads", o.threads, "worker threads (0 = one per core)");
  cmd->add_flag("-q,--quiet", o.quiet, "no progress output");
}

void AddInspect(CLI::App& app, InspectOptions& o) {
  auto* cmd = app.add_subcommand("inspect",
                                 "Describe a checkpoint: format, leaves, dtypes, "
                                 "shapes, chunks, compression, size");
  cmd->add_option("directory", o.directory, "checkpoint directory")->required();
  cmd->add_flag("--json", o.json, "print JSON");
  cmd->add_flag("--keys", o.keys, "list every OCDBT key with its size and location");
}

void AddVerify(CLI::App& app, VerifyOptions& o) {
  auto* cmd = app.add_subcommand("verify",
                                 "Read every key and chunk of a checkpoint and check every "
                                 "checksum; exit non-zero on any problem");
  cmd->add_option("directory", o.directory, "checkpoint directory")->required();
}

void AddManagerRoot(CLI::App* cmd, stowage::cli::ManagerRootOptions& o) {
  cmd->add_option("root", o.root, "CheckpointManager root directory")->required();
  cmd->add_option("--step-prefix", o.step_prefix, "step folders are named PREFIX_<step>");
  cmd->add_option("--step-fixed-length", o.step_fixed_length,
                  "step numbers are zero padded to this many digits")
      ->check(CLI::Range(0, 19));
}

void AddLs(CLI::App& app, LsOptions& o) {
  auto* cmd = app.add_subcommand("ls",
                                 "List the steps of a CheckpointManager root: commit time, size, "
                                 "metrics, and which retention keeps and why");
  AddManagerRoot(cmd, o.where);
  cmd->add_option("--max-to-keep", o.max_to_keep, "keep the newest (or best) N steps")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-period", o.keep_period, "also keep steps that are multiples of N")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--keep-time-interval", o.keep_time_interval_seconds,
                  "also keep one step per this many seconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--best-metric", o.best_metric, "rank steps by this metric, not by recency");
  cmd->add_option("--best-mode", o.best_mode, "min or max (default max)")
      ->check(CLI::IsMember({"min", "max"}));
  cmd->add_flag("--delete-without-metrics", o.delete_without_metrics,
                "with --best-metric: steps without metrics may be deleted");
  cmd->add_flag("--json", o.json, "print JSON");
}

void AddRm(CLI::App& app, RmOptions& o) {
  auto* cmd = app.add_subcommand("rm", "Delete one step of a CheckpointManager root (atomically)");
  AddManagerRoot(cmd, o.where);
  cmd->add_option("step", o.step, "the step to delete")->required();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stowage: save, restore and inspect Orbax checkpoints"};
  app.require_subcommand(1);
  ImportOptions import_options;
  ExportOptions export_options;
  InspectOptions inspect_options;
  VerifyOptions verify_options;
  AddImport(app, import_options);
  AddExport(app, export_options);
  AddInspect(app, inspect_options);
  AddVerify(app, verify_options);
  LsOptions ls_options;
  RmOptions rm_options;
  AddLs(app, ls_options);
  AddRm(app, rm_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  stowage::Status status;
  if (app.got_subcommand("import")) {
    status = stowage::cli::RunImport(import_options);
  } else if (app.got_subcommand("export")) {
    status = stowage::cli::RunExport(export_options);
  } else if (app.got_subcommand("ls")) {
    status = stowage::cli::RunLs(ls_options);
  } else if (app.got_subcommand("rm")) {
    status = stowage::cli::RunRm(rm_options);
  } else if (app.got_subcommand("verify")) {
    status = stowage::cli::RunVerify(verify_options);
  } else {
    status = stowage::cli::RunInspect(inspect_options);
  }
  if (status.has_value()) return 0;
  std::cerr << "stowage: " << status.error().ToString() << "\n";
  return static_cast<int>(status.error().code());
}
