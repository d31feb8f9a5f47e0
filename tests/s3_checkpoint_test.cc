// Checkpoints on s3:// URLs against a real S3 server on loopback (s3rver,
// scripts/s3rver.sh): arrays and trees in every layout through Checkpointer
// and AsyncCheckpointer, several processes saving one sharded tree, a
// CheckpointManager run, and the commit without rename (Orbax's
// CommitFileTemporaryPath: `commit_success.txt` written last) under faults —
// 503s and stalls injected by a proxy, the server killed mid-save. Each fault
// must leave nothing uncommitted visible and the previous checkpoint intact.
//
// Skipped when node or s3rver is missing, unless STOWAGE_REQUIRE_S3RVER=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <complex>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/bytes.h"
#include "kvstore/s3_test_fixture.h"
#include "kvstore/s3_test_server.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpoint_manager.h"
#include "stowage/checkpointer.h"
#include "stowage/directory.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "stowage/s3.h"
#include "testutil/testutil.h"
#include "testutil/thread_coordinator.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;
using kvstore::S3Credentials;
using kvstore::S3Options;
using kvstore::s3_testing::FaultProxy;
using kvstore::s3_testing::S3rver;
using Clock = std::chrono::steady_clock;
using Steps = std::vector<std::int64_t>;
using std::chrono::milliseconds;

constexpr char kBucket[] = "ckpt";

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// "s3://ckpt/<suite.test>/<suffix>": every test under its own prefix.
fs::path Url(const std::string& suffix) {
  return fs::path("s3://" + std::string(kBucket) + "/" + TestName() + "/" + suffix);
}

// Options for s3rver at `endpoint`: short backoffs and timeouts so that
// faults end quickly.
S3Options ServerOptions(const std::string& endpoint) {
  return S3Options{.endpoint = endpoint,
                   .region = "us-east-1",
                   .credentials = S3Credentials{"S3RVER", "S3RVER", ""},
                   .max_retries = 3,
                   .initial_backoff = milliseconds(10),
                   .max_backoff = milliseconds(50),
                   .connect_timeout = milliseconds(1000),
                   .idle_timeout = milliseconds(5000)};
}

// Every key under the s3:// directory `url`, relative to it, sorted.
std::vector<std::string> KeysUnder(const fs::path& url) {
  auto store = kvstore::OpenDirectory(url);
  if (!store.has_value()) {
    ADD_FAILURE() << store.error().ToString();
    return {};
  }
  auto keys = (*store)->List("");
  if (!keys.has_value()) {
    ADD_FAILURE() << keys.error().ToString();
    return {};
  }
  return *keys;
}

bool Contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool AnyStartsWith(const std::vector<std::string>& keys, const std::string& prefix) {
  return std::any_of(keys.begin(), keys.end(),
                     [&](const auto& k) { return k.starts_with(prefix); });
}

// ---------------------------------------------------------------------------
// Values and their comparison.

template <typename T, typename F>
Array Filled(const Shape& shape, F value_of) {
  Array array = Array::Zeros(kDTypeOf<T>, shape).value();
  auto values = array.mutable_values<T>();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = value_of(i);
  return array;
}

Array Floats(const Shape& shape, float start, float step = 1) {
  return Filled<float>(shape, [&](std::size_t i) { return start + step * static_cast<float>(i); });
}

// The array (or scalar, as a 0-d array) a leaf holds; failure otherwise.
const ArrayView* ViewOf(const Leaf& leaf, ArrayView& storage) {
  const ArrayView* view = ArrayViewOf(leaf, storage);
  if (view == nullptr) ADD_FAILURE() << "the leaf is not an array or scalar";
  return view;
}

// Same dtype, shape and elements (compared element by element, as bytes).
void ExpectSameArray(const ArrayView& got, const ArrayView& want, const std::string& where) {
  ASSERT_EQ(got.dtype(), want.dtype()) << where;
  ASSERT_EQ(got.shape(), want.shape()) << where;
  ASSERT_EQ(got.bytes().size(), want.bytes().size()) << where;
  std::size_t item = want.num_elements() == 0 ? 1 : want.bytes().size() / want.num_elements();
  for (std::int64_t i = 0; i < want.num_elements(); ++i) {
    if (std::memcmp(got.bytes().data() + i * item, want.bytes().data() + i * item, item) != 0) {
      ADD_FAILURE() << where << ": element " << i << " differs";
      return;
    }
  }
}

// `got` holds the same structure, kinds of leaves and values as `want`.
void ExpectSameTree(const Tree& got, const Tree& want, const std::string& where = "root") {
  if (want.is_leaf()) {
    ASSERT_TRUE(got.is_leaf()) << where;
    const Leaf& w = want.leaf();
    const Leaf& g = got.leaf();
    if (const auto* s = std::get_if<std::string>(&w)) {
      ASSERT_TRUE(std::holds_alternative<std::string>(g)) << where;
      EXPECT_EQ(std::get<std::string>(g), *s) << where;
      return;
    }
    if (std::holds_alternative<Scalar>(w)) {
      ASSERT_TRUE(std::holds_alternative<Scalar>(g)) << where << " did not restore as a Scalar";
    } else {
      ASSERT_TRUE(std::holds_alternative<Array>(g)) << where << " did not restore as an Array";
    }
    ArrayView ws, gs;
    const ArrayView* wv = ViewOf(w, ws);
    const ArrayView* gv = ViewOf(g, gs);
    ASSERT_TRUE(wv != nullptr && gv != nullptr) << where;
    ExpectSameArray(*gv, *wv, where);
  } else if (want.is_map()) {
    ASSERT_TRUE(got.is_map()) << where;
    EXPECT_EQ(got.map().size(), want.map().size()) << where;
    for (const auto& [key, child] : want.map()) {
      const Tree* other = got.Find(key);
      ASSERT_NE(other, nullptr) << where << "." << key << " is missing";
      ExpectSameTree(*other, child, where + "." + key);
    }
  } else if (want.is_sequence()) {
    ASSERT_TRUE(got.is_sequence()) << where;
    ASSERT_EQ(got.sequence().size(), want.sequence().size()) << where;
    for (std::size_t i = 0; i < want.sequence().size(); ++i) {
      ExpectSameTree(got.sequence()[i], want.sequence()[i], where + "." + std::to_string(i));
    }
  } else {
    EXPECT_TRUE(got.is_none()) << where << " should be None";
  }
}

// A nested tree of many dtypes, a string, scalars and empty nodes.
Tree MixedTree(int seed) {
  Tree tree;
  tree["params"]["dense"]["kernel"] = Floats({8, 16}, static_cast<float>(seed), 0.5f);
  tree["params"]["dense"]["bias"] =
      Filled<double>({16}, [&](std::size_t i) { return seed - 0.25 * static_cast<double>(i); });
  tree["params"]["embed"] = Filled<bfloat16_t>({4, 4}, [&](std::size_t i) {
    return FloatToBfloat16(seed + 0.125 * static_cast<double>(i));
  });
  tree["opt"]["count"] =
      Filled<std::int32_t>({3}, [&](std::size_t i) { return static_cast<std::int32_t>(i) - seed; });
  tree["opt"]["mask"] = Filled<bool>({5}, [](std::size_t i) { return i % 2 == 0; });
  Tree mu;
  mu.Append(
      Filled<std::int8_t>({2, 3}, [](std::size_t i) { return static_cast<std::int8_t>(-i); }));
  mu.Append(Filled<std::uint16_t>(
      {7}, [&](std::size_t i) { return static_cast<std::uint16_t>(60000 + i + seed); }));
  mu.Append(Filled<std::complex<float>>({3}, [](std::size_t i) {
    return std::complex<float>(static_cast<float>(i), -static_cast<float>(i));
  }));
  tree["opt"]["mu"] = std::move(mu);
  tree["step"] = Scalar::Of(std::int64_t{1000 + seed});
  tree["lr"] = Scalar::Of(0.125 * seed);
  tree["name"] = std::string("run-") + std::to_string(seed);
  tree["empty"] = Tree::EmptyMap();
  tree["nothing"] = Tree();
  return tree;
}

// A tree whose values tell which step saved it (the manager tests).
Tree StepTree(std::int64_t step) {
  Tree tree;
  tree["params"]["w"] = Floats({2, 3}, static_cast<float>(step * 10));
  tree["step"] = Scalar::Of(std::int64_t{step});
  return tree;
}

// A tree of `leaves` small arrays, saved as that many zarr folders: many
// requests, so that a fault injected after a few of them lands mid-save.
Tree ManyLeaves(int leaves, int seed) {
  Tree tree;
  for (int i = 0; i < leaves; ++i) {
    tree["l" + std::to_string(i)] = Floats({4, 4}, static_cast<float>(seed * 1000 + i * 16));
  }
  return tree;
}

PyTreeCheckpointHandlerOptions TreeOptions(bool ocdbt, bool zarr3 = false) {
  PyTreeCheckpointHandlerOptions options;
  options.use_ocdbt = ocdbt;
  options.use_zarr3 = zarr3;
  options.num_threads = 2;
  return options;
}

CheckpointManagerOptions ManagerOptions(bool ocdbt = true) {
  CheckpointManagerOptions options;
  options.async = false;
  options.retention.max_to_keep = 2;
  options.handler.pytree.use_ocdbt = ocdbt;
  options.handler.pytree.num_threads = 2;
  return options;
}

// Waits for `future` at most `limit`; fails the test (and still waits, as
// the save owns the memory it writes) when it takes longer.
Status WaitBounded(const Future<void>& future, std::chrono::seconds limit) {
  auto start = Clock::now();
  while (!future.ready() && Clock::now() - start < limit) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(future.ready()) << "the commit future is not ready after " << limit.count() << " s";
  return future.Wait();
}

// Runs `action` once `proxy` has seen `after` more requests than now (polled
// on a thread of its own), unless Stop() comes first.
class AfterRequests {
 public:
  AfterRequests(FaultProxy& proxy, int after, std::function<void()> action)
      : thread_([this, &proxy, target = proxy.requests.load() + after, action] {
          while (!stop_ && proxy.requests < target) std::this_thread::sleep_for(milliseconds(1));
          if (stop_) return;
          fired_ = true;
          action();
        }) {}
  ~AfterRequests() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool fired() const { return fired_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

// ---------------------------------------------------------------------------
// One s3rver for the suite; each test under its own prefix.

class S3CheckpointTest : public kvstore::s3_testing::SharedS3rverTest {
 protected:
  static void SetUpTestSuite() { StartSharedServer(kBucket); }

  void SetUp() override {
    SharedS3rverTest::SetUp();
    if (server_ == nullptr) return;
    kvstore::SetS3Defaults(ServerOptions(server_->endpoint()));
  }
  void TearDown() override { kvstore::SetS3Defaults(S3Options{}); }

  // Points every later-opened s3:// directory at a fault proxy in front of
  // the server, with `change` applied to the options.
  FaultProxy& UseProxy(const std::function<void(S3Options&)>& change = {}) {
    proxy_ = std::make_unique<FaultProxy>(server_->port());
    S3Options options = ServerOptions(proxy_->endpoint());
    if (change) change(options);
    kvstore::SetS3Defaults(options);
    return *proxy_;
  }

  std::unique_ptr<FaultProxy> proxy_;
};

// 1. Arrays and scalars.

TEST_F(S3CheckpointTest, ArrayAndScalarRoundTripThroughCheckpointer) {
  for (bool ocdbt : {false, true}) {
    SCOPED_TRACE(ocdbt ? "ocdbt" : "zarr");
    ArrayCheckpointHandlerOptions options;
    options.use_ocdbt = ocdbt;
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
    fs::path dir = Url(ocdbt ? "p/arr_ocdbt" : "p/arr");
    Array saved = Filled<std::int64_t>(
        {5, 7}, [](std::size_t i) { return static_cast<std::int64_t>(i * i) - 40; });
    ASSERT_OK(checkpointer.Save(dir, {saved.Copy(), {}}));
    ASSERT_OK(internal::CheckFinalized(dir));
    ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(dir));
    ASSERT_TRUE(std::holds_alternative<Array>(back));
    ExpectSameArray(std::get<Array>(back).view(), saved.view(), "array");

    std::vector<std::string> keys = KeysUnder(dir);
    EXPECT_TRUE(Contains(keys, "_CHECKPOINT_METADATA")) << ::testing::PrintToString(keys);
    EXPECT_TRUE(Contains(keys, "commit_success.txt")) << ::testing::PrintToString(keys);
    EXPECT_TRUE(Contains(keys, "_METADATA")) << ::testing::PrintToString(keys);
    if (ocdbt) {
      EXPECT_TRUE(Contains(keys, "manifest.ocdbt")) << ::testing::PrintToString(keys);
    } else {
      EXPECT_TRUE(Contains(keys, "checkpoint/.zarray")) << ::testing::PrintToString(keys);
    }
    // No temporary directory: the save went straight into `dir`.
    std::vector<std::string> all = KeysUnder(Url(""));
    for (const auto& key : all)
      EXPECT_EQ(key.find("orbax-checkpoint-tmp"), std::string::npos) << key;

    // `_CHECKPOINT_METADATA` is committed: handler typestr and commit time.
    ASSERT_OK_AND_ASSIGN(auto store, kvstore::OpenDirectory(dir));
    ASSERT_OK_AND_ASSIGN(Bytes raw, store->Read("_CHECKPOINT_METADATA"));
    auto metadata = nlohmann::json::parse(
        std::string(reinterpret_cast<const char*>(raw.data()), raw.size()), nullptr, false);
    ASSERT_FALSE(metadata.is_discarded());
    EXPECT_EQ(metadata.value("item_handlers", nlohmann::json()),
              std::string(ArrayCheckpointHandler::kTypestr));
    EXPECT_TRUE(metadata["commit_timestamp_nsecs"].is_number()) << metadata.dump();
    EXPECT_TRUE(metadata["init_timestamp_nsecs"].is_number()) << metadata.dump();

    fs::path scalar_dir = dir.string() + "_scalar";
    ASSERT_OK(checkpointer.Save(scalar_dir, {Scalar::Of(-2.75), {}}));
    ASSERT_OK_AND_ASSIGN(Leaf scalar, checkpointer.Restore(scalar_dir));
    ASSERT_TRUE(std::holds_alternative<Scalar>(scalar));
    EXPECT_EQ(std::get<Scalar>(scalar).dtype(), DType::kFloat64);
    EXPECT_EQ(std::get<Scalar>(scalar).As<double>(), -2.75);
  }
}

TEST_F(S3CheckpointTest, ArraysRoundTripThroughAsyncCheckpointer) {
  ArrayCheckpointHandlerOptions options;
  options.use_ocdbt = true;
  options.num_threads = 2;
  AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler(options)};
  // Several saves in flight at once, committed in order.
  std::vector<Future<void>> commits;
  for (int i = 0; i < 3; ++i) {
    SaveArgs args;
    args.chunk_byte_size = 1024;  // several chunks
    ASSERT_OK_AND_ASSIGN(auto committed,
                         checkpointer.AsyncSave(Url("p/arr" + std::to_string(i)),
                                                {Floats({32, 33}, static_cast<float>(i)), args}));
    commits.push_back(std::move(committed));
  }
  for (auto& commit : commits) ASSERT_OK(WaitBounded(commit, std::chrono::seconds(30)));
  for (int i = 0; i < 3; ++i) {
    fs::path dir = Url("p/arr" + std::to_string(i));
    ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(dir));
    ASSERT_TRUE(std::holds_alternative<Array>(back));
    ExpectSameArray(std::get<Array>(back).view(), Floats({32, 33}, static_cast<float>(i)).view(),
                    dir.string());
    std::vector<std::string> keys = KeysUnder(dir);
    for (const char* key :
         {"_CHECKPOINT_METADATA", "commit_success.txt", "_METADATA", "manifest.ocdbt"}) {
      EXPECT_TRUE(Contains(keys, key)) << key << " in " << ::testing::PrintToString(keys);
    }
  }
  ASSERT_OK_AND_ASSIGN(auto scalar_commit,
                       checkpointer.AsyncSave(Url("p/scalar"), {Scalar::Of(std::int64_t{-9}), {}}));
  ASSERT_OK(WaitBounded(scalar_commit, std::chrono::seconds(30)));
  ASSERT_OK_AND_ASSIGN(Leaf scalar, checkpointer.Restore(Url("p/scalar")));
  ASSERT_TRUE(std::holds_alternative<Scalar>(scalar));
  EXPECT_EQ(std::get<Scalar>(scalar).dtype(), DType::kInt64);
  EXPECT_EQ(std::get<Scalar>(scalar).As<std::int64_t>(), -9);
}

// 2. Trees.

TEST_F(S3CheckpointTest, TreesRoundTripInEveryLayout) {
  struct Layout {
    const char* name;
    bool ocdbt;
    bool zarr3;
  };
  for (Layout layout : {Layout{"ocdbt", true, false}, Layout{"zarr", false, false},
                        Layout{"zarr3", false, true}, Layout{"ocdbt_zarr3", true, true}}) {
    SCOPED_TRACE(layout.name);
    Checkpointer<PyTreeCheckpointHandler> checkpointer{
        PyTreeCheckpointHandler(TreeOptions(layout.ocdbt, layout.zarr3))};
    fs::path dir = Url(layout.name);
    ASSERT_OK(checkpointer.Save(dir, {MixedTree(3), {}, {}}));
    ASSERT_OK_AND_ASSIGN(Tree back, checkpointer.Restore(dir));
    ExpectSameTree(back, MixedTree(3));

    std::vector<std::string> keys = KeysUnder(dir);
    EXPECT_TRUE(Contains(keys, "commit_success.txt"));
    EXPECT_TRUE(Contains(keys, "_METADATA"));
    EXPECT_EQ(Contains(keys, "manifest.ocdbt"), layout.ocdbt) << ::testing::PrintToString(keys);
    if (!layout.ocdbt) {
      std::string array_file =
          layout.zarr3 ? "params.dense.kernel/zarr.json" : "params.dense.kernel/.zarray";
      EXPECT_TRUE(Contains(keys, array_file)) << ::testing::PrintToString(keys);
    }

    // Partial restore: only what lies under the keys asked.
    PyTreeRestoreArgs partial;
    partial.keys = {"params.dense", "step"};
    ASSERT_OK_AND_ASSIGN(Tree some, checkpointer.Restore(dir, partial));
    ASSERT_TRUE(some.is_map());
    EXPECT_EQ(some.map().size(), 2u);
    EXPECT_EQ(some.Find("opt"), nullptr);
    ASSERT_NE(some.Find("params"), nullptr);
    Tree want = MixedTree(3);
    ExpectSameTree(*some.Find("params")->Find("dense"), *want.Find("params")->Find("dense"),
                   "params.dense");
    EXPECT_EQ(some.Find("params")->Find("embed"), nullptr);
    ExpectSameTree(*some.Find("step"), *want.Find("step"), "step");
  }
}

TEST_F(S3CheckpointTest, AsyncTreeSaveRoundTrips) {
  AsyncCheckpointer<PyTreeCheckpointHandler> checkpointer{
      PyTreeCheckpointHandler(TreeOptions(true))};
  ASSERT_OK_AND_ASSIGN(auto committed, checkpointer.AsyncSave(Url("tree"), {MixedTree(5), {}, {}}));
  ASSERT_OK(WaitBounded(committed, std::chrono::seconds(30)));
  ASSERT_OK_AND_ASSIGN(Tree back, checkpointer.Restore(Url("tree")));
  ExpectSameTree(back, MixedTree(5));
}

// 3. Several processes (threads with ThreadCoordinators) saving one sharded
// tree to one s3:// directory.

constexpr int kProcesses = 3;
const Shape kShardedShape{12, 5};

Sharding RowSharding() {
  return Sharding::Named(kShardedShape, ProcessMesh::Balanced(kProcesses, 1), {0, std::nullopt})
      .value();
}

Tree TreeOfProcess(int p) {
  Sharding sharding = RowSharding();
  const Box& box = sharding.BoxOf(p);
  Tree tree;
  tree["w"] =
      ShardedArray::FromLocal(sharding, p, Floats(box.shape, static_cast<float>(box.origin[0] * 5)))
          .value();
  tree["b"] = Floats({7}, 100);
  tree["step"] = Scalar::Of(std::int64_t{42});
  return tree;
}

TEST_F(S3CheckpointTest, ProcessesSaveOneShardedTreeTogether) {
  for (bool ocdbt : {true, false}) {
    SCOPED_TRACE(ocdbt ? "ocdbt" : "zarr");
    fs::path dir = Url(ocdbt ? "mp_ocdbt" : "mp_zarr");
    auto outcomes =
        testing::OnEveryProcess(kProcesses, [&](int p, std::shared_ptr<Coordinator> coordinator) {
          PyTreeCheckpointHandlerOptions options = TreeOptions(ocdbt);
          options.coordinator = std::move(coordinator);
          options.collective_timeout = std::chrono::seconds(30);
          Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
          return checkpointer.Save(dir, {TreeOfProcess(p), {}, {}});
        });
    for (const auto& outcome : outcomes) ASSERT_OK(outcome);

    // Restored whole by one process.
    Checkpointer<PyTreeCheckpointHandler> reader{PyTreeCheckpointHandler(TreeOptions(ocdbt))};
    ASSERT_OK_AND_ASSIGN(Tree back, reader.Restore(dir));
    Tree want;
    want["w"] = Floats(kShardedShape, 0);
    want["b"] = Floats({7}, 100);
    want["step"] = Scalar::Of(std::int64_t{42});
    ExpectSameTree(back, want);
    std::vector<std::string> keys = KeysUnder(dir);
    EXPECT_TRUE(Contains(keys, "commit_success.txt"));
    if (ocdbt) {
      EXPECT_TRUE(Contains(keys, "manifest.ocdbt")) << ::testing::PrintToString(keys);
    } else {
      EXPECT_TRUE(Contains(keys, "w/.zarray")) << ::testing::PrintToString(keys);
    }

    // And each process its own rows.
    auto restored = testing::OnEveryProcess(
        kProcesses, [&](int p, std::shared_ptr<Coordinator> coordinator) -> Status {
          PyTreeCheckpointHandlerOptions options = TreeOptions(ocdbt);
          options.coordinator = std::move(coordinator);
          Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options)};
          PyTreeRestoreArgs args;
          args.restore_args["w"].sharding = RowSharding();
          STOWAGE_ASSIGN_OR_RETURN(Tree mine, checkpointer.Restore(dir, args));
          const auto& shard = std::get<ShardedArray>(mine.Find("w")->leaf()).shards.at(0);
          Tree expected = TreeOfProcess(p);
          const auto& own = std::get<ShardedArray>(expected.Find("w")->leaf()).shards.at(0);
          if (shard.box != own.box || !BitwiseEqual(shard.data.view(), own.data.view())) {
            return InternalError("process " + std::to_string(p) + " restored other rows");
          }
          return OkStatus();
        });
    for (const auto& outcome : restored) EXPECT_OK(outcome);
  }
}

// 4. CheckpointManager on an s3:// root.

TEST_F(S3CheckpointTest, ManagerKeepsTheLatestStepsAndDeletesTheOthersObjects) {
  fs::path root = Url("run");
  {
    ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, ManagerOptions()));
    for (std::int64_t step = 0; step <= 5; ++step) {
      ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(step, PyTreeSaveArgs{StepTree(step), {}, {}}));
      EXPECT_TRUE(saved);
    }
    ASSERT_OK(manager->WaitUntilFinished());
    EXPECT_EQ(manager->AllSteps(), (Steps{4, 5}));
    EXPECT_EQ(manager->LatestStep(), 5);
    ASSERT_OK_AND_ASSIGN(Tree latest, manager->RestoreTree(5));
    ExpectSameTree(latest, StepTree(5));
    ASSERT_OK_AND_ASSIGN(Tree older, manager->RestoreTree(4));
    ExpectSameTree(older, StepTree(4));
    EXPECT_ERROR_CODE(manager->RestoreTree(3), ErrorCode::kNotFound);
    ASSERT_OK(manager->Close());
  }
  std::vector<std::string> keys = KeysUnder(root);
  for (int gone = 0; gone <= 3; ++gone) {
    EXPECT_FALSE(AnyStartsWith(keys, std::to_string(gone) + "/"))
        << "objects of deleted step " << gone << " remain: " << ::testing::PrintToString(keys);
  }
  for (int kept : {4, 5}) {
    std::string step = std::to_string(kept) + "/";
    EXPECT_TRUE(Contains(keys, step + "commit_success.txt")) << ::testing::PrintToString(keys);
    EXPECT_TRUE(Contains(keys, step + "_CHECKPOINT_METADATA"));
    EXPECT_TRUE(Contains(keys, step + "default/_METADATA")) << ::testing::PrintToString(keys);
  }

  // A new manager on the same root sees the same steps and values.
  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointManager::Open(root, ManagerOptions()));
  EXPECT_EQ(reopened->AllSteps(), (Steps{4, 5}));
  ASSERT_OK_AND_ASSIGN(Tree latest, reopened->RestoreTree(*reopened->LatestStep()));
  ExpectSameTree(latest, StepTree(5));

  // Delete removes every object of the step.
  ASSERT_OK(reopened->Delete(4));
  EXPECT_EQ(reopened->AllSteps(), (Steps{5}));
  EXPECT_FALSE(AnyStartsWith(KeysUnder(root), "4/"));
}

TEST_F(S3CheckpointTest, UncommittedStepIsNeitherListedNorRestorable) {
  fs::path root = Url("run");
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, ManagerOptions()));
  for (std::int64_t step : {4, 5}) {
    ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(step, PyTreeSaveArgs{StepTree(step), {}, {}}));
    EXPECT_TRUE(saved);
  }
  ASSERT_OK(manager->WaitUntilFinished());
  // Step 7 by hand: every object of step 5 but commit_success.txt, plus a
  // stray object, as a save that crashed before its commit leaves them.
  ASSERT_OK_AND_ASSIGN(auto store, kvstore::OpenDirectory(root));
  ASSERT_OK_AND_ASSIGN(auto step5, store->List("5/"));
  ASSERT_GT(step5.size(), 3u);
  for (const std::string& key : step5) {
    if (key == "5/commit_success.txt") continue;
    ASSERT_OK_AND_ASSIGN(Bytes value, store->Read(key));
    ASSERT_OK(store->Write("7/" + key.substr(2), value));
  }
  ASSERT_OK(store->Write("7/stray/junk.bin", AsBytes(std::string("junk"))));

  ASSERT_OK(manager->Reload());
  EXPECT_EQ(manager->AllSteps(), (Steps{4, 5}));
  EXPECT_EQ(manager->LatestStep(), 5);
  EXPECT_ERROR_CODE(manager->RestoreTree(7), ErrorCode::kNotFound);
  auto unfinished = internal::CheckFinalized(root / "7");
  EXPECT_ERROR_CODE(unfinished, ErrorCode::kInvalidArgument);
  EXPECT_NE(unfinished.error().message().find("incomplete"), std::string::npos)
      << unfinished.error().message();
  Checkpointer<PyTreeCheckpointHandler> reader{PyTreeCheckpointHandler()};
  EXPECT_ERROR_CODE(reader.Restore(root / "7" / "default"), ErrorCode::kInvalidArgument);
  ASSERT_OK(manager->Close());
  manager.reset();

  // Nor for a new manager; its save of step 7 replaces the leftover.
  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointManager::Open(root, ManagerOptions()));
  EXPECT_EQ(reopened->AllSteps(), (Steps{4, 5}));
  ASSERT_OK_AND_ASSIGN(bool saved, reopened->Save(7, PyTreeSaveArgs{StepTree(7), {}, {}}));
  EXPECT_TRUE(saved);
  ASSERT_OK(reopened->WaitUntilFinished());
  EXPECT_EQ(reopened->AllSteps(), (Steps{5, 7}));
  ASSERT_OK_AND_ASSIGN(Tree back, reopened->RestoreTree(7));
  ExpectSameTree(back, StepTree(7));
  std::vector<std::string> keys = KeysUnder(root);
  EXPECT_FALSE(Contains(keys, "7/stray/junk.bin")) << "the leftover was not cleaned";
  EXPECT_FALSE(AnyStartsWith(keys, "4/"));
}

// Checkpointer on a directory holding nothing, or an unfinished save.
// The write order the commit rests on, as the server saw it (the proxy logs
// an answer before passing it on): each OCDBT database's manifest is sent
// after its data files are stored, and commit_success.txt after every other
// request of the save has been answered.
TEST_F(S3CheckpointTest, ManifestsFollowTheirDataAndTheCommitFileComesLast) {
  FaultProxy& proxy = UseProxy();
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(TreeOptions(true))};
  ASSERT_OK(checkpointer.Save(Url("order"), {MixedTree(5), {}, {}}));
  std::vector<std::string> log = proxy.Log();
  std::string dir = "/" + std::string(kBucket) + "/" + TestName() + "/order/";
  // Index of the first (or last) entry starting with `event` (e.g. "> PUT")
  // whose object is <dir><object>...; -1 when none.
  auto find = [&](std::string_view event, std::string_view object, bool last) {
    std::ptrdiff_t found = -1;
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (!log[i].starts_with(event) || log[i].find(dir + std::string(object)) == std::string::npos)
        continue;
      found = static_cast<std::ptrdiff_t>(i);
      if (!last) break;
    }
    return found;
  };
  std::ptrdiff_t commit = find("> PUT", "commit_success.txt", false);
  ASSERT_GE(commit, 0) << "no commit_success.txt PUT";
  EXPECT_EQ(commit, static_cast<std::ptrdiff_t>(log.size()) - 2);  // then only its answer
  auto before_commit = [&](char event) {
    return std::count_if(log.begin(), log.begin() + commit,
                         [&](const std::string& e) { return e[0] == event; });
  };
  EXPECT_EQ(before_commit('<'), before_commit('>'));  // all answered before it was sent
  for (std::string db : {"ocdbt.process_0/", ""}) {
    std::ptrdiff_t data_stored = find("< PUT", db + "d/", true);
    std::ptrdiff_t manifest = find("> PUT", db + "manifest.ocdbt", false);
    ASSERT_GE(data_stored, 0) << "no data file in database '" << db << "'";
    EXPECT_GT(manifest, data_stored) << "database '" << db << "'";
  }
  ASSERT_OK_AND_ASSIGN(Tree back, checkpointer.Restore(Url("order")));
  ExpectSameTree(back, MixedTree(5));
}

TEST_F(S3CheckpointTest, MissingOrUnfinishedCheckpointIsNotRestorable) {
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler()};
  EXPECT_ERROR_CODE(checkpointer.Restore(Url("nothing")), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(internal::CheckFinalized(Url("nothing")), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(bool exists, kvstore::DirectoryExists(Url("nothing")));
  EXPECT_FALSE(exists);

  // A whole save but for commit_success.txt.
  fs::path dir = Url("half");
  ASSERT_OK(checkpointer.Save(dir, {MixedTree(1), {}, {}}));
  ASSERT_OK_AND_ASSIGN(auto store, kvstore::OpenDirectory(dir));
  ASSERT_OK(store->Delete("commit_success.txt"));
  ASSERT_OK(store->Write("leftover/x", AsBytes(std::string("x"))));
  auto restored = checkpointer.Restore(dir);
  EXPECT_ERROR_CODE(restored, ErrorCode::kInvalidArgument);
  EXPECT_NE(restored.error().message().find("incomplete"), std::string::npos)
      << restored.error().message();
  ASSERT_OK_AND_ASSIGN(exists, kvstore::DirectoryExists(dir));
  EXPECT_TRUE(exists);

  // A new save (no force needed: nothing is committed there) cleans it.
  ASSERT_OK(checkpointer.Save(dir, {MixedTree(2), {}, {}}));
  ASSERT_OK_AND_ASSIGN(Tree back, checkpointer.Restore(dir));
  ExpectSameTree(back, MixedTree(2));
  EXPECT_FALSE(Contains(KeysUnder(dir), "leftover/x"));

  // RemoveDirectory removes every object.
  ASSERT_OK(kvstore::RemoveDirectory(dir));
  EXPECT_TRUE(KeysUnder(dir).empty());
  EXPECT_ERROR_CODE(checkpointer.Restore(dir), ErrorCode::kNotFound);
}

// 6. Overwriting.

TEST_F(S3CheckpointTest, ExistingCheckpointIsReplacedOnlyWithForce) {
  fs::path dir = Url("ckpt");
  ArrayCheckpointHandlerOptions first_options;
  first_options.checkpoint_name = "first";
  Checkpointer<ArrayCheckpointHandler> first{ArrayCheckpointHandler(first_options)};
  ASSERT_OK(first.Save(dir, {Floats({3, 4}, 1), {}}));

  ArrayCheckpointHandlerOptions second_options;
  second_options.checkpoint_name = "second";
  Checkpointer<ArrayCheckpointHandler> second{ArrayCheckpointHandler(second_options)};
  EXPECT_ERROR_CODE(second.Save(dir, {Floats({2, 2}, 50), {}}), ErrorCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(Leaf kept, first.Restore(dir));
  ExpectSameArray(std::get<Array>(kept).view(), Floats({3, 4}, 1).view(), "kept");
  EXPECT_FALSE(AnyStartsWith(KeysUnder(dir), "second/"));

  // Also with an AsyncCheckpointer.
  {
    AsyncCheckpointer<ArrayCheckpointHandler> async{ArrayCheckpointHandler(second_options)};
    auto refused = async.AsyncSave(dir, {Floats({2, 2}, 50), {}});
    if (refused.has_value()) {
      EXPECT_ERROR_CODE(refused->Wait(), ErrorCode::kAlreadyExists);
    } else {
      EXPECT_EQ(refused.error().code(), ErrorCode::kAlreadyExists);
    }
  }
  ASSERT_OK_AND_ASSIGN(kept, first.Restore(dir));
  ExpectSameArray(std::get<Array>(kept).view(), Floats({3, 4}, 1).view(), "kept");

  CheckpointSaveOptions force;
  force.force = true;
  ASSERT_OK(second.Save(dir, {Floats({2, 2}, 50), {}}, force));
  ASSERT_OK_AND_ASSIGN(Leaf replaced, second.Restore(dir));
  ExpectSameArray(std::get<Array>(replaced).view(), Floats({2, 2}, 50).view(), "replaced");
  std::vector<std::string> keys = KeysUnder(dir);
  EXPECT_FALSE(AnyStartsWith(keys, "first/"))
      << "the old checkpoint's objects remain: " << ::testing::PrintToString(keys);
  EXPECT_TRUE(Contains(keys, "commit_success.txt"));
  // The old handler finds no array of its name any more.
  EXPECT_FALSE(first.Restore(dir).has_value());

  // Forcing with a tree checkpointer too.
  Checkpointer<PyTreeCheckpointHandler> trees{PyTreeCheckpointHandler(TreeOptions(true))};
  EXPECT_ERROR_CODE(trees.Save(dir, {MixedTree(1), {}, {}}), ErrorCode::kAlreadyExists);
  ASSERT_OK(trees.Save(dir, {MixedTree(1), {}, {}}, force));
  ASSERT_OK_AND_ASSIGN(Tree tree, trees.Restore(dir));
  ExpectSameTree(tree, MixedTree(1));
  EXPECT_FALSE(AnyStartsWith(KeysUnder(dir), "second/"));
}

// 5. Faults.

// (a) 503s within the retry budget: the save succeeds.
TEST_F(S3CheckpointTest, ServerErrorsWithinTheRetryBudgetAreRetried) {
  FaultProxy& proxy = UseProxy([](S3Options& o) { o.max_retries = 4; });
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(TreeOptions(true))};
  proxy.fail_next = 3;  // the first requests of the save
  ASSERT_OK(checkpointer.Save(Url("a"), {MixedTree(4), {}, {}}));
  EXPECT_EQ(proxy.failed, 3);
  // And 503s in the middle of the save.
  {
    AfterRequests inject(proxy, 6, [&] { proxy.fail_next = 4; });
    ASSERT_OK(checkpointer.Save(Url("b"), {MixedTree(5), {}, {}}));
    inject.Stop();
    EXPECT_TRUE(inject.fired());
  }
  EXPECT_EQ(proxy.failed, 7);
  ASSERT_OK_AND_ASSIGN(Tree a, checkpointer.Restore(Url("a")));
  ExpectSameTree(a, MixedTree(4));
  ASSERT_OK_AND_ASSIGN(Tree b, checkpointer.Restore(Url("b")));
  ExpectSameTree(b, MixedTree(5));
}

// (a) 503s beyond the retry budget mid-save: the save fails, leaves no
// checkpoint, and the previous step survives.
TEST_F(S3CheckpointTest, PersistentServerErrorsFailTheSaveAndKeepThePreviousStep) {
  FaultProxy& proxy = UseProxy([](S3Options& o) { o.max_retries = 1; });
  fs::path root = Url("run");
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, ManagerOptions(false)));
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(0, PyTreeSaveArgs{ManyLeaves(12, 0), {}, {}}));
  EXPECT_TRUE(saved);
  ASSERT_OK(manager->WaitUntilFinished());

  auto start = Clock::now();
  Status outcome = OkStatus();
  {
    AfterRequests inject(proxy, 10, [&] { proxy.fail_next = 1000000; });
    auto save = manager->Save(1, PyTreeSaveArgs{ManyLeaves(12, 1), {}, {}});
    Status finished = manager->WaitUntilFinished();
    outcome = !save.has_value() ? Status(save.error()) : finished;
    inject.Stop();
    EXPECT_TRUE(inject.fired());
  }
  proxy.fail_next = 0;
  ASSERT_FALSE(outcome.has_value()) << "the save succeeded despite the 503s";
  EXPECT_EQ(outcome.error().code(), ErrorCode::kIo) << outcome.error().ToString();
  EXPECT_NE(outcome.error().message().find("503"), std::string::npos) << outcome.error().message();
  EXPECT_LT(SecondsSince(start), 20.0);

  // The failed step is not listed, not even by the manager that tried it.
  EXPECT_EQ(manager->AllSteps(), (Steps{0})) << "after " << outcome.error().ToString();
  EXPECT_FALSE(internal::CheckFinalized(manager->StepPath(1)).has_value());
  EXPECT_FALSE(Contains(KeysUnder(root), "1/commit_success.txt"));
  ASSERT_OK(manager->Reload());
  EXPECT_EQ(manager->AllSteps(), (Steps{0}));
  manager.reset();

  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointManager::Open(root, ManagerOptions(false)));
  EXPECT_EQ(reopened->AllSteps(), (Steps{0}));
  ASSERT_OK_AND_ASSIGN(Tree previous, reopened->RestoreTree(0));
  ExpectSameTree(previous, ManyLeaves(12, 0));
  EXPECT_ERROR_CODE(reopened->RestoreTree(1), ErrorCode::kNotFound);
  // The step saves once the server answers again.
  ASSERT_OK_AND_ASSIGN(saved, reopened->Save(1, PyTreeSaveArgs{ManyLeaves(12, 1), {}, {}}));
  EXPECT_TRUE(saved);
  ASSERT_OK(reopened->WaitUntilFinished());
  EXPECT_EQ(reopened->AllSteps(), (Steps{0, 1}));
  ASSERT_OK_AND_ASSIGN(Tree now, reopened->RestoreTree(1));
  ExpectSameTree(now, ManyLeaves(12, 1));
}

// (a) The same through a Checkpointer: the failed directory is no
// checkpoint, the earlier one restores unchanged.
TEST_F(S3CheckpointTest, PersistentServerErrorsLeaveNoCheckpoint) {
  FaultProxy& proxy = UseProxy([](S3Options& o) { o.max_retries = 1; });
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(TreeOptions(false))};
  ASSERT_OK(checkpointer.Save(Url("prev"), {ManyLeaves(6, 0), {}, {}}));
  {
    AfterRequests inject(proxy, 8, [&] { proxy.fail_next = 1000000; });
    auto failed = checkpointer.Save(Url("new"), {ManyLeaves(12, 1), {}, {}});
    inject.Stop();
    EXPECT_TRUE(inject.fired());
    EXPECT_ERROR_CODE(failed, ErrorCode::kIo);
  }
  proxy.fail_next = 0;
  auto check = internal::CheckFinalized(Url("new"));
  EXPECT_FALSE(check.has_value());
  EXPECT_ERROR_CODE(checkpointer.Restore(Url("new")), check.error().code());
  EXPECT_FALSE(Contains(KeysUnder(Url("new")), "commit_success.txt"));
  ASSERT_OK_AND_ASSIGN(Tree previous, checkpointer.Restore(Url("prev")));
  ExpectSameTree(previous, ManyLeaves(6, 0));
  // A later save of the same directory needs no force and replaces the leftovers.
  ASSERT_OK(checkpointer.Save(Url("new"), {ManyLeaves(3, 2), {}, {}}));
  ASSERT_OK_AND_ASSIGN(Tree now, checkpointer.Restore(Url("new")));
  ExpectSameTree(now, ManyLeaves(3, 2));
  EXPECT_FALSE(AnyStartsWith(KeysUnder(Url("new")), "l11/"));
}

// (b) A response stalled past idle_timeout is retried.
TEST_F(S3CheckpointTest, StalledResponsesAreRetried) {
  FaultProxy& proxy = UseProxy([](S3Options& o) {
    o.idle_timeout = milliseconds(1000);
    o.max_retries = 3;
  });
  Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
  proxy.delay_ms = 4000;
  auto start = Clock::now();
  // The stall ends when the retry of the first stalled request arrives.
  AfterRequests unstall(proxy, 2, [&] { proxy.delay_ms = 0; });
  ASSERT_OK(checkpointer.Save(Url("slow"), {Floats({6, 6}, 3), {}}));
  unstall.Stop();
  EXPECT_TRUE(unstall.fired());
  EXPECT_GE(SecondsSince(start), 0.9);  // one attempt timed out
  EXPECT_LT(SecondsSince(start), 15.0);
  ASSERT_OK_AND_ASSIGN(Leaf back, checkpointer.Restore(Url("slow")));
  ExpectSameArray(std::get<Array>(back).view(), Floats({6, 6}, 3).view(), "slow");
}

// (b) Stalls beyond the retries fail the save cleanly, about idle_timeout
// after each stalled request (uploads included: the idle clock starts at the
// last byte moved either way).
TEST_F(S3CheckpointTest, StalledResponsesFailTheSaveCleanly) {
  FaultProxy& proxy = UseProxy([](S3Options& o) {
    o.idle_timeout = milliseconds(1000);
    o.max_retries = 0;  // each stalled request fails after one timeout
  });
  Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(TreeOptions(false))};
  ASSERT_OK(checkpointer.Save(Url("prev"), {ManyLeaves(3, 0), {}, {}}));
  auto start = Clock::now();
  Status failed = OkStatus();
  {
    AfterRequests stall(proxy, 5, [&] { proxy.delay_ms = 5000; });
    failed = checkpointer.Save(Url("slow"), {ManyLeaves(2, 1), {}, {}});
    stall.Stop();
    EXPECT_TRUE(stall.fired());
  }
  double seconds = SecondsSince(start);
  proxy.delay_ms = 0;
  EXPECT_ERROR_CODE(failed, ErrorCode::kIo);
  EXPECT_NE(failed.error().message().find("timed out"), std::string::npos)
      << failed.error().message();
  EXPECT_LT(seconds, 6.0);
  EXPECT_FALSE(internal::CheckFinalized(Url("slow")).has_value());
  EXPECT_FALSE(Contains(KeysUnder(Url("slow")), "commit_success.txt"));
  ASSERT_OK_AND_ASSIGN(Tree previous, checkpointer.Restore(Url("prev")));
  ExpectSameTree(previous, ManyLeaves(3, 0));
}

// ---------------------------------------------------------------------------
// (c) The server killed mid-save, then restarted on the same data (a server
// of its own, as the suite's is shared).

class S3CheckpointKillTest : public ::testing::Test {
 protected:
  void TearDown() override { kvstore::SetS3Defaults(S3Options{}); }
};

TEST_F(S3CheckpointKillTest, ServerKilledMidSaveKeepsThePreviousStep) {
  std::string why_not;
  auto server = kvstore::s3_testing::S3rver::Start(kBucket, &why_not);
  if (!server) {
    if (kvstore::s3_testing::S3rverRequired()) FAIL() << why_not;
    GTEST_SKIP() << why_not;
  }
  // Through a proxy that slows each request a little, so that the kill
  // lands while the big step is being written.
  auto proxy = std::make_unique<FaultProxy>(server->port());
  S3Options options = ServerOptions(proxy->endpoint());
  options.max_retries = 1;
  options.idle_timeout = milliseconds(1000);
  options.multipart_threshold = 5 << 20;
  options.part_size = 5 << 20;
  options.max_in_flight = 4;
  kvstore::SetS3Defaults(options);

  fs::path root = "s3://" + std::string(kBucket) + "/run";
  CheckpointManagerOptions manager_options = ManagerOptions(false);
  manager_options.async = true;
  manager_options.handler.pytree.compression = Compression::kNone;
  ASSERT_OK_AND_ASSIGN(auto manager, CheckpointManager::Open(root, manager_options));
  ASSERT_OK_AND_ASSIGN(bool saved, manager->Save(0, PyTreeSaveArgs{StepTree(0), {}, {}}));
  EXPECT_TRUE(saved);
  ASSERT_OK(manager->WaitUntilFinished());
  EXPECT_EQ(manager->AllSteps(), (Steps{0}));
  // And a checkpoint outside the manager's root.
  fs::path other = "s3://" + std::string(kBucket) + "/other";
  {
    AsyncCheckpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
    ASSERT_OK_AND_ASSIGN(auto committed, checkpointer.AsyncSave(other, {Floats({5, 5}, -3), {}}));
    ASSERT_OK(WaitBounded(committed, std::chrono::seconds(30)));
  }

  // Step 1: 64 MiB (4 chunks of 16 MiB, each a multipart upload of 5 MiB parts).
  Tree big;
  big["w"] = Filled<std::uint32_t>({16, 1 << 20},
                                   [](std::size_t i) { return static_cast<std::uint32_t>(i * 7); });
  big["step"] = Scalar::Of(std::int64_t{1});
  proxy->delay_ms = 40;
  auto start = Clock::now();
  Status outcome = OkStatus();
  {
    AfterRequests kill(*proxy, 8, [&] { server->Kill(); });
    auto save = manager->Save(1, PyTreeSaveArgs{std::move(big), {}, {}});
    if (!save.has_value()) {
      outcome = save.error();
    } else {
      // Bounded: the commit's outcome arrives although nothing answers any more.
      std::atomic<bool> finished{false};
      std::thread waiter([&] {
        outcome = manager->WaitUntilFinished();
        finished = true;
      });
      auto limit = Clock::now() + std::chrono::seconds(30);
      while (!finished && Clock::now() < limit) std::this_thread::sleep_for(milliseconds(20));
      EXPECT_TRUE(finished) << "the save's outcome did not arrive within 30 s of the kill";
      waiter.join();
    }
    kill.Stop();
    ASSERT_TRUE(kill.fired()) << "the save finished before the server was killed";
  }
  EXPECT_LT(SecondsSince(start), 30.0);
  ASSERT_FALSE(outcome.has_value()) << "the save succeeded with the server killed";
  EXPECT_EQ(outcome.error().code(), ErrorCode::kIo) << outcome.error().ToString();
  EXPECT_EQ(manager->AllSteps(), (Steps{0})) << "after " << outcome.error().ToString();
  manager.reset();
  proxy.reset();

  // The server back on the same data.
  ASSERT_TRUE(server->Restart(&why_not)) << why_not;
  options.endpoint = server->endpoint();
  options.max_retries = 3;
  kvstore::SetS3Defaults(options);
  manager_options.async = false;
  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointManager::Open(root, manager_options));
  EXPECT_EQ(reopened->AllSteps(), (Steps{0}));
  ASSERT_OK_AND_ASSIGN(Tree previous, reopened->RestoreTree(0));
  ExpectSameTree(previous, StepTree(0));
  EXPECT_ERROR_CODE(reopened->RestoreTree(1), ErrorCode::kNotFound);
  EXPECT_FALSE(internal::CheckFinalized(reopened->StepPath(1)).has_value());
  EXPECT_FALSE(Contains(KeysUnder(root), "1/commit_success.txt"));
  Checkpointer<ArrayCheckpointHandler> reader{ArrayCheckpointHandler()};
  ASSERT_OK_AND_ASSIGN(Leaf kept, reader.Restore(other));
  ExpectSameArray(std::get<Array>(kept).view(), Floats({5, 5}, -3).view(), "other");
  // Step 1 saves now.
  ASSERT_OK_AND_ASSIGN(saved, reopened->Save(1, PyTreeSaveArgs{StepTree(1), {}, {}}));
  EXPECT_TRUE(saved);
  ASSERT_OK(reopened->WaitUntilFinished());
  EXPECT_EQ(reopened->AllSteps(), (Steps{0, 1}));
  ASSERT_OK_AND_ASSIGN(Tree now, reopened->RestoreTree(1));
  ExpectSameTree(now, StepTree(1));
}

}  // namespace
}  // namespace stowage
