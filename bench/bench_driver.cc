// One timed stowage save or restore, as bench/compare runs it beside its
// peers: loads the data (untimed), times the library call in-process, and
// prints one JSON line (see bench/README.md for the fields).
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "kvstore/file_ops.h"
#include "npy/npy.h"
#include "npy/npz.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"
#include "stowage/pytree_checkpoint_handler.h"

namespace {

using namespace stowage;
using Clock = std::chrono::steady_clock;

struct DriverOptions {
  std::string op;
  std::string kase = "array";
  std::string data;
  std::string dir;
  std::string compression = "zstd";
  std::size_t threads = 0;
  bool no_fsync = false;
  std::optional<std::int64_t> chunk_bytes;
  int repeats = 11;
};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Fail(const Error& error) {
  std::cerr << "bench_driver: " << error.ToString() << "\n";
  std::exit(1);
}

template <typename T>
T OrFail(Result<T> result) {
  if (!result.has_value()) Fail(result.error());
  return std::move(*result);
}

void OrFail(const Status& status) {
  if (!status.has_value()) Fail(status.error());
}

Compression CompressionOf(const DriverOptions& o) {
  return o.compression == "none" ? Compression::kNone : Compression::kZstd;
}

// The checkpointer fsyncs once, at commit; writeback starts as files are
// written (as the CLI's import does).
kvstore::FsyncPolicy WriterFsyncOf(const DriverOptions& o) {
  return o.no_fsync ? kvstore::FsyncPolicy::kNone : kvstore::FsyncPolicy::kStartWriteback;
}

CheckpointSaveOptions SaveOptionsOf(const DriverOptions& o) {
  CheckpointSaveOptions options;
  options.fsync = o.no_fsync ? kvstore::FsyncPolicy::kNone : kvstore::FsyncPolicy::kEveryWrite;
  return options;
}

// ArrayCheckpointHandlerOptions or PyTreeCheckpointHandlerOptions.
template <typename HandlerOptions>
HandlerOptions OptionsOf(const DriverOptions& o) {
  HandlerOptions options;
  options.compression = CompressionOf(o);
  options.num_threads = o.threads;
  options.fsync = WriterFsyncOf(o);
  return options;
}

ArrayCheckpointHandlerOptions ArrayOptionsOf(const DriverOptions& o) {
  return OptionsOf<ArrayCheckpointHandlerOptions>(o);
}

PyTreeCheckpointHandlerOptions TreeOptionsOf(const DriverOptions& o) {
  return OptionsOf<PyTreeCheckpointHandlerOptions>(o);
}

std::uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

unsigned long Crc(unsigned long crc, std::span<const std::byte> bytes) {
  const auto* data = reinterpret_cast<const Bytef*>(bytes.data());
  for (std::size_t done = 0; done < bytes.size();) {
    auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, data + done, n);
    done += n;
  }
  return crc;
}

std::span<const std::byte> BytesOf(const Leaf& leaf) {
  ArrayView storage;
  const ArrayView* view = ArrayViewOf(leaf, storage);
  return view ? view->bytes() : std::span<const std::byte>();
}

nlohmann::json Save(const DriverOptions& o) {
  nlohmann::json out;
  double seconds = 0;
  std::uint64_t bytes = 0;
  if (o.kase == "tree") {
    auto members = OrFail(npy::ReadNpzFile(o.data));
    PyTreeSaveArgs args;
    args.item = Tree::EmptyMap();
    for (auto& member : members) {
      bytes += member.array.num_bytes();
      args.item[member.name] = std::move(member.array);
    }
    Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(TreeOptionsOf(o))};
    auto start = Clock::now();
    OrFail(checkpointer.Save(o.dir, std::move(args), SaveOptionsOf(o)));
    seconds = SecondsSince(start);
  } else {
    Array array = OrFail(npy::ReadNpyFile(o.data));
    bytes = array.num_bytes();
    SaveArgs save_args;
    save_args.chunk_byte_size = o.chunk_bytes;
    Leaf item = o.kase == "scalar" ? Leaf(OrFail(Scalar::FromArray(std::move(array))))
                                   : Leaf(std::move(array));
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(ArrayOptionsOf(o))};
    auto start = Clock::now();
    OrFail(checkpointer.Save(o.dir, {std::move(item), save_args}, SaveOptionsOf(o)));
    seconds = SecondsSince(start);
    if (o.kase == "array") {
      auto zarray = OrFail(
          kvstore::ReadWholeFile(std::filesystem::path(o.dir) / "checkpoint" / ".zarray", 1 << 20));
      out["chunks"] = nlohmann::json::parse(AsStringView(zarray))["chunks"];
    }
  }
  out["seconds"] = seconds;
  out["bytes"] = bytes;
  out["stored_bytes"] = DirectoryBytes(o.dir);
  return out;
}

nlohmann::json Restore(const DriverOptions& o) {
  nlohmann::json out;
  unsigned long crc = crc32(0, nullptr, 0);
  std::uint64_t bytes = 0;
  if (o.kase == "tree") {
    Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(TreeOptionsOf(o))};
    auto start = Clock::now();
    Tree tree = OrFail(checkpointer.Restore(o.dir));
    out["seconds"] = SecondsSince(start);
    std::vector<std::pair<std::string, const Tree*>> leaves;
    for (const auto& [name, child] : tree.map()) leaves.emplace_back(name, &child);
    std::sort(leaves.begin(), leaves.end());
    for (const auto& [name, child] : leaves) {
      auto leaf_bytes = BytesOf(child->leaf());
      bytes += leaf_bytes.size();
      crc = Crc(crc, leaf_bytes);
    }
  } else {
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(ArrayOptionsOf(o))};
    auto start = Clock::now();
    Leaf leaf = OrFail(checkpointer.Restore(o.dir));
    out["seconds"] = SecondsSince(start);
    bytes = BytesOf(leaf).size();
    crc = Crc(crc, BytesOf(leaf));
  }
  out["bytes"] = bytes;
  out["crc32"] = crc;
  return out;
}

// The time AsyncSave holds the caller (snapshot of a view of caller memory)
// against a memcpy of the same bytes into fresh memory, and the commit.
nlohmann::json AsyncSave(const DriverOptions& o) {
  Array array = OrFail(npy::ReadNpyFile(o.data));
  auto memcpy_start = Clock::now();
  Array copy = OrFail(Array::Uninitialized(array.dtype(), array.shape()));
  std::memcpy(copy.mutable_bytes().data(), array.bytes().data(), array.num_bytes());
  double memcpy_seconds = SecondsSince(memcpy_start);
  copy = Array();
  AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(ArrayOptionsOf(o))};
  auto start = Clock::now();
  auto committed =
      OrFail(checkpointer.AsyncSave(o.dir, {array.view(), SaveArgs{}}, SaveOptionsOf(o)));
  double blocked = SecondsSince(start);
  OrFail(committed.Wait());
  double total = SecondsSince(start);
  // Handing over ownership (an Array moved in) needs no snapshot at all.
  std::filesystem::path moved_dir = o.dir + ".moved";
  auto moved_start = Clock::now();
  auto moved =
      OrFail(checkpointer.AsyncSave(moved_dir, {std::move(array), SaveArgs{}}, SaveOptionsOf(o)));
  double moved_blocked = SecondsSince(moved_start);
  OrFail(moved.Wait());
  std::filesystem::remove_all(moved_dir);
  return {{"blocked_seconds", blocked},
          {"memcpy_seconds", memcpy_seconds},
          {"commit_seconds", total - blocked},
          {"moved_blocked_seconds", moved_blocked}};
}

// Save + restore of the data, `repeats` times into fresh directories in
// this process: the first (cold: thread pools, codec contexts) and the
// median of the others, each with its save and restore parts.
nlohmann::json RoundTrip(const DriverOptions& o) {
  std::vector<double> saves, restores, totals;
  for (int i = 0; i < o.repeats; ++i) {
    DriverOptions each = o;
    each.dir = o.dir + "/" + std::to_string(i);
    std::filesystem::create_directories(o.dir);
    double save = Save(each)["seconds"];
    double restore = Restore(each)["seconds"];
    saves.push_back(save);
    restores.push_back(restore);
    totals.push_back(save + restore);
    std::filesystem::remove_all(each.dir);
  }
  auto median = [](std::vector<double> v) {
    if (v.size() <= 1) return v.empty() ? 0.0 : v[0];
    v.erase(v.begin());  // the cold first run is reported on its own
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {{"first_seconds", totals.front()},
          {"seconds", median(totals)},
          {"save_seconds", median(saves)},
          {"restore_seconds", median(restores)},
          {"repeats", o.repeats}};
}

}  // namespace

int main(int argc, char** argv) {
  DriverOptions o;
  CLI::App app{"Times one stowage save or restore for bench/compare"};
  app.add_option("op", o.op, "save, restore, async-save or roundtrip")
      ->required()
      ->check(CLI::IsMember({"save", "restore", "async-save", "roundtrip"}));
  app.add_option("--case", o.kase)->check(CLI::IsMember({"array", "tree", "scalar"}));
  app.add_option("--data", o.data, ".npy (array, scalar) or .npz (tree)");
  app.add_option("--dir", o.dir, "checkpoint directory")->required();
  app.add_option("--compression", o.compression)->check(CLI::IsMember({"none", "zstd"}));
  app.add_option("--threads", o.threads, "worker threads; 0 = one per core");
  app.add_flag("--no-fsync", o.no_fsync);
  app.add_option("--chunk-bytes", o.chunk_bytes, "target chunk size (array case)");
  app.add_option("--repeats", o.repeats, "roundtrip: save+restore cycles (first is cold)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (o.op != "restore" && o.data.empty()) {
    std::cerr << "bench_driver: --data is required for " << o.op << "\n";
    return 2;
  }
  nlohmann::json out = o.op == "save"        ? Save(o)
                       : o.op == "restore"   ? Restore(o)
                       : o.op == "roundtrip" ? RoundTrip(o)
                                             : AsyncSave(o);
  out["tool"] = "stowage";
  out["op"] = o.op;
  out["case"] = o.kase;
  out["compression"] = o.compression;
  out["threads"] = o.threads;
  std::cout << out.dump() << std::endl;
  return 0;
}
