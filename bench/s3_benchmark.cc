// The S3 store against an S3-compatible server: 1 GiB written and read as
// 64 objects of 16 MiB by 8 threads (so 8 requests in flight).
//
//   build/s3_benchmark                        starts s3rver (scripts/s3rver.sh) itself
//   S3_BENCH_ENDPOINT=http://127.0.0.1:PORT S3_BENCH_BUCKET=b build/s3_benchmark
//   bench/s3_vs_curl.sh                       the same bytes through curl, and the ratio
//
// Environment: S3_BENCH_OBJECTS (64), S3_BENCH_OBJECT_MIB (16), S3_BENCH_THREADS (8).
// What is timed:
//   s3/write/<payload>  Store::Write of every object; <payload> "signed" hashes each body
//       for SigV4 (the default), "unsigned" sends UNSIGNED-PAYLOAD.
//   s3/read             Store::ReadInto of every object into preallocated buffers.
//   s3/checkpoint/save/<layout>     Checkpointer<PyTreeCheckpointHandler>::Save of one
//       float32 array of the same 1 GiB (one row per object, chunks of one row, no
//       compression, 8 workers) to s3://bucket/checkpoints/N, commit included; <layout>
//       "ocdbt" (Orbax's default: chunks appended to OCDBT data files sent as multipart
//       uploads) or "zarr" (one object per chunk).
//   s3/checkpoint/restore/<layout>  Checkpointer::Restore of that checkpoint, the check
//       of its commit file included.
// Counter bytes_per_second: value bytes moved per second of wall time.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kvstore/s3_test_server.h"
#include "stowage/bytes.h"
#include "stowage/checkpointer.h"
#include "stowage/directory.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "stowage/s3.h"

namespace {

using namespace stowage;  // NOLINT

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

struct Setup {
  std::unique_ptr<kvstore::s3_testing::S3rver> server;  // when no endpoint was given
  std::string endpoint;
  std::string bucket;
  int objects = EnvInt("S3_BENCH_OBJECTS", 64);
  std::size_t object_bytes = static_cast<std::size_t>(EnvInt("S3_BENCH_OBJECT_MIB", 16)) << 20;
  int threads = EnvInt("S3_BENCH_THREADS", 8);
  Bytes value;
};

Setup& GetSetup() {
  // Destroyed at exit, which stops the server and removes its data.
  static std::unique_ptr<Setup> setup = [] {
    auto s = std::make_unique<Setup>();
    const char* endpoint = std::getenv("S3_BENCH_ENDPOINT");
    const char* bucket = std::getenv("S3_BENCH_BUCKET");
    s->bucket = bucket ? bucket : "bench";
    if (endpoint) {
      s->endpoint = endpoint;
    } else {
      std::string why_not;
      s->server = kvstore::s3_testing::S3rver::Start(s->bucket, &why_not);
      if (!s->server) {
        std::fprintf(stderr, "s3_benchmark: %s\n", why_not.c_str());
        std::exit(1);
      }
      s->endpoint = s->server->endpoint();
    }
    s->value.resize(s->object_bytes);
    std::mt19937_64 random(42);
    for (std::size_t i = 0; i + 8 <= s->value.size(); i += 8) {
      std::uint64_t word = random();
      std::memcpy(s->value.data() + i, &word, 8);
    }
    return s;
  }();
  return *setup;
}

std::unique_ptr<kvstore::Store> OpenStore(bool sign_payload) {
  Setup& setup = GetSetup();
  kvstore::S3Options options{.endpoint = setup.endpoint,
                             .bucket = setup.bucket,
                             .prefix = "s3_benchmark",
                             .credentials = kvstore::S3Credentials{"S3RVER", "S3RVER", ""},
                             .sign_payload = sign_payload,
                             .max_in_flight = setup.threads};
  auto store = kvstore::OpenS3Store(options);
  if (!store) {
    std::fprintf(stderr, "s3_benchmark: %s\n", store.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(store).value();
}

// Runs `fn(i)` for every object index on the configured number of threads;
// returns false when any call failed.
template <typename Fn>
bool ForEachObject(Fn fn) {
  Setup& setup = GetSetup();
  std::atomic<int> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < setup.threads; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < setup.objects;) {
        if (!fn(i)) ok = false;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return ok;
}

std::string Key(int i) { return "obj/" + std::to_string(i); }

void BM_S3Write(benchmark::State& state, bool sign_payload) {
  Setup& setup = GetSetup();
  auto store = OpenStore(sign_payload);
  for (auto _ : state) {
    bool ok = ForEachObject([&](int i) {
      auto status = store->Write(Key(i), setup.value);
      if (!status) std::fprintf(stderr, "%s\n", status.error().ToString().c_str());
      return status.has_value();
    });
    if (!ok) state.SkipWithError("a write failed");
  }
  state.SetBytesProcessed(state.iterations() * setup.objects *
                          static_cast<std::int64_t>(setup.object_bytes));
}

void BM_S3Read(benchmark::State& state) {
  Setup& setup = GetSetup();
  auto store = OpenStore(true);
  bool ok = ForEachObject([&](int i) { return store->Write(Key(i), setup.value).has_value(); });
  if (!ok) state.SkipWithError("setup write failed");
  std::vector<Bytes> buffers(setup.objects);
  for (auto& buffer : buffers) {  // touched once, so that page faults stay out of the timing
    buffer.resize(setup.object_bytes);
    std::memset(buffer.data(), 0, buffer.size());
  }
  for (auto _ : state) {
    ok = ForEachObject([&](int i) {
      auto status = store->ReadInto(Key(i), buffers[i]);
      if (!status) std::fprintf(stderr, "%s\n", status.error().ToString().c_str());
      return status.has_value();
    });
    if (!ok) state.SkipWithError("a read failed");
  }
  if (std::memcmp(buffers[0].data(), setup.value.data(), setup.object_bytes) != 0) {
    state.SkipWithError("read back different bytes");
  }
  state.SetBytesProcessed(state.iterations() * setup.objects *
                          static_cast<std::int64_t>(setup.object_bytes));
}

// Points s3:// paths at the benchmark's server.
void UseServerForPaths() {
  Setup& setup = GetSetup();
  kvstore::SetS3Defaults({.endpoint = setup.endpoint,
                          .credentials = kvstore::S3Credentials{"S3RVER", "S3RVER", ""},
                          .max_in_flight = setup.threads});
}

PyTreeCheckpointHandlerOptions CheckpointOptions(bool ocdbt) {
  Setup& setup = GetSetup();
  PyTreeCheckpointHandlerOptions options;
  options.use_ocdbt = ocdbt;
  options.compression = Compression::kNone;
  options.num_threads = static_cast<std::size_t>(setup.threads);
  options.max_in_flight_bytes = 0;
  return options;
}

// The 1 GiB of Setup::value repeated, one row per object.
Bytes CheckpointBytes() {
  Setup& setup = GetSetup();
  Bytes whole(setup.objects * setup.object_bytes);
  for (int i = 0; i < setup.objects; ++i) {
    std::memcpy(whole.data() + i * setup.object_bytes, setup.value.data(), setup.object_bytes);
  }
  return whole;
}

// A tree holding `whole` as a float32 array (a view: no copy), chunked by row.
PyTreeSaveArgs CheckpointItem(const Bytes& whole) {
  Setup& setup = GetSetup();
  Shape shape = {setup.objects, static_cast<std::int64_t>(setup.object_bytes / 4)};
  PyTreeSaveArgs args;
  args.item["w"] = Tree(ArrayView::Make(DType::kFloat32, shape, whole).value());
  args.save_args["w"].chunk_byte_size = static_cast<std::int64_t>(setup.object_bytes);
  return args;
}

std::string CheckpointPath(bool ocdbt, int n) {
  return "s3://" + GetSetup().bucket + "/checkpoints/" + (ocdbt ? "ocdbt/" : "zarr/") +
         std::to_string(n);
}

void BM_S3CheckpointSave(benchmark::State& state, bool ocdbt) {
  UseServerForPaths();
  Checkpointer<PyTreeCheckpointHandler> checkpointer{
      PyTreeCheckpointHandler(CheckpointOptions(ocdbt))};
  Bytes whole = CheckpointBytes();
  int n = 0;
  for (auto _ : state) {
    std::string path = CheckpointPath(ocdbt, n++);
    auto saved = checkpointer.Save(path, CheckpointItem(whole));
    if (!saved) state.SkipWithError(saved.error().ToString().c_str());
    state.PauseTiming();  // the server keeps its data in memory: free it
    (void)kvstore::RemoveDirectory(path);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(whole.size()));
}

void BM_S3CheckpointRestore(benchmark::State& state, bool ocdbt) {
  UseServerForPaths();
  Checkpointer<PyTreeCheckpointHandler> checkpointer{
      PyTreeCheckpointHandler(CheckpointOptions(ocdbt))};
  Bytes whole = CheckpointBytes();
  std::string path = CheckpointPath(ocdbt, 1000);
  auto saved = checkpointer.Save(path, CheckpointItem(whole), {.force = true});
  if (!saved) state.SkipWithError(saved.error().ToString().c_str());
  for (auto _ : state) {
    auto restored = checkpointer.Restore(path);
    if (!restored) {
      state.SkipWithError(restored.error().ToString().c_str());
      break;
    }
    const Tree* w = restored->Find("w");
    ArrayView storage;
    const ArrayView* view = w ? ArrayViewOf(w->leaf(), storage) : nullptr;
    if (!view || view->bytes().size() != whole.size() ||
        std::memcmp(view->bytes().data(), whole.data(), whole.size()) != 0) {
      state.SkipWithError("restored different bytes");
    }
  }
  (void)kvstore::RemoveDirectory(path);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(whole.size()));
}

BENCHMARK_CAPTURE(BM_S3Write, signed, true)
    ->Name("s3/write/signed")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_S3Write, unsigned, false)
    ->Name("s3/write/unsigned")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_S3Read)->Name("s3/read")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_S3CheckpointSave, ocdbt, true)
    ->Name("s3/checkpoint/save/ocdbt")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_S3CheckpointRestore, ocdbt, true)
    ->Name("s3/checkpoint/restore/ocdbt")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_S3CheckpointSave, zarr, false)
    ->Name("s3/checkpoint/save/zarr")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_S3CheckpointRestore, zarr, false)
    ->Name("s3/checkpoint/restore/zarr")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
