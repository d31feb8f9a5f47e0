// Several processes saving one checkpoint, as threads with ThreadCoordinators
// (tests/testutil/thread_coordinator.h), so that the multi-process paths run
// in every build, including under ThreadSanitizer: trees mixing sharded and
// whole leaves, synchronous and asynchronous, zarr v2 folders and OCDBT.
#include <gtest/gtest.h>

#include <thread>

#include "stowage/checkpointer.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "testutil/testutil.h"
#include "testutil/thread_coordinator.h"

namespace stowage {
namespace {

namespace fs = std::filesystem;

constexpr int kProcesses = 3;
const Shape kShape{12, 5};

Array Iota(const Shape& shape, float start) {
  Array array = Array::Zeros(DType::kFloat32, shape).value();
  auto values = array.mutable_values<float>();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = start + static_cast<float>(i);
  return array;
}

Sharding RowSharding() {
  return Sharding::Named(kShape, ProcessMesh::Balanced(kProcesses, 1), {0, std::nullopt}).value();
}

// Process `p`'s tree: its rows of "w", and the same "b" and "step" as every
// other process.
Tree TreeOfProcess(int p) {
  Sharding sharding = RowSharding();
  const Box& box = sharding.BoxOf(p);
  Array rows = Iota(box.shape, static_cast<float>(box.origin[0] * kShape[1]));
  Tree tree;
  tree["w"] = ShardedArray::FromLocal(sharding, p, std::move(rows)).value();
  tree["b"] = Iota({7}, 100);
  tree["step"] = Scalar::Of(std::int64_t{42});
  return tree;
}

PyTreeCheckpointHandlerOptions OptionsOf(std::shared_ptr<Coordinator> coordinator, bool ocdbt) {
  PyTreeCheckpointHandlerOptions options;
  options.use_ocdbt = ocdbt;
  options.num_threads = 2;
  options.coordinator = std::move(coordinator);
  options.collective_timeout = std::chrono::seconds(30);
  options.fsync = kvstore::FsyncPolicy::kNone;
  return options;
}

void ExpectWholeTree(const fs::path& directory) {
  Checkpointer<PyTreeCheckpointHandler> reader{PyTreeCheckpointHandler()};
  ASSERT_OK_AND_ASSIGN(Tree back, reader.Restore(directory));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(back.Find("w")->leaf()).view(), Iota(kShape, 0).view()));
  EXPECT_TRUE(BitwiseEqual(std::get<Array>(back.Find("b")->leaf()).view(), Iota({7}, 100).view()));
  EXPECT_EQ(std::get<Scalar>(back.Find("step")->leaf()).As<std::int64_t>(), 42);
}

// Each process restores its own rows of "w".
void ExpectEachProcessRestoresItsRows(const fs::path& directory, bool ocdbt) {
  auto outcomes = testing::OnEveryProcess(
      kProcesses, [&](int p, std::shared_ptr<Coordinator> coordinator) -> Status {
        Checkpointer<PyTreeCheckpointHandler> reader{
            PyTreeCheckpointHandler(OptionsOf(coordinator, ocdbt))};
        PyTreeRestoreArgs args;
        args.restore_args["w"].sharding = RowSharding();
        STOWAGE_ASSIGN_OR_RETURN(Tree back, reader.Restore(directory, args));
        const auto& shard = std::get<ShardedArray>(back.Find("w")->leaf()).shards.at(0);
        Tree want = TreeOfProcess(p);
        const auto& mine = std::get<ShardedArray>(want.Find("w")->leaf()).shards.at(0);
        if (shard.box != mine.box || !BitwiseEqual(shard.data.view(), mine.data.view())) {
          return InternalError("process " + std::to_string(p) + " restored box origin " +
                               std::to_string(shard.box.origin[0]) + " shape " +
                               ShapeToString(shard.box.shape) + ", first value " +
                               std::to_string(shard.data.values<float>()[0]) + "; wanted origin " +
                               std::to_string(mine.box.origin[0]) + ", first value " +
                               std::to_string(mine.data.values<float>()[0]));
        }
        return OkStatus();
      });
  for (const auto& outcome : outcomes) EXPECT_OK(outcome);
}

// Every process saves its tree (changed by `change`, if given) to `directory`.
std::vector<Status> SaveOnEveryProcess(const fs::path& directory, bool ocdbt,
                                       const std::function<void(int, Tree&)>& change = {}) {
  return testing::OnEveryProcess(kProcesses, [&](int p, std::shared_ptr<Coordinator> coordinator) {
    Checkpointer<PyTreeCheckpointHandler> checkpointer{
        PyTreeCheckpointHandler(OptionsOf(coordinator, ocdbt))};
    Tree tree = TreeOfProcess(p);
    if (change) change(p, tree);
    return checkpointer.Save(directory, {std::move(tree), {}, {}});
  });
}

class MultiProcessTreeTest : public ::testing::TestWithParam<bool> {};

TEST_P(MultiProcessTreeTest, ProcessesSaveOneTreeTogether) {
  bool ocdbt = GetParam();
  testing::TempDir tmp;
  fs::path directory = tmp.path() / "ckpt";
  for (const auto& outcome : SaveOnEveryProcess(directory, ocdbt)) ASSERT_OK(outcome);
  ExpectWholeTree(directory);
  ExpectEachProcessRestoresItsRows(directory, ocdbt);
}

TEST_P(MultiProcessTreeTest, AsyncSavesOverlapTheCallersWork) {
  bool ocdbt = GetParam();
  testing::TempDir tmp;
  auto outcomes = testing::OnEveryProcess(
      kProcesses, [&](int p, std::shared_ptr<Coordinator> coordinator) -> Status {
        AsyncCheckpointer<PyTreeCheckpointHandler> checkpointer{
            PyTreeCheckpointHandler(OptionsOf(coordinator, ocdbt))};
        std::vector<Future<void>> saves;
        for (int step = 0; step < 3; ++step) {  // three steps in flight, as a training loop does
          Tree tree = TreeOfProcess(p);
          STOWAGE_ASSIGN_OR_RETURN(
              auto committed,
              checkpointer.AsyncSave(tmp.path() / std::to_string(step), {std::move(tree), {}, {}}));
          saves.push_back(std::move(committed));
        }
        for (auto& save : saves) STOWAGE_RETURN_IF_ERROR(save.Wait());
        return OkStatus();
      });
  for (const auto& outcome : outcomes) ASSERT_OK(outcome);
  for (int step = 0; step < 3; ++step) ExpectWholeTree(tmp.path() / std::to_string(step));
}

TEST_P(MultiProcessTreeTest, AFailureOnOneProcessFailsTheSaveEverywhere) {
  bool ocdbt = GetParam();
  testing::TempDir tmp;
  fs::path directory = tmp.path() / "ckpt";
  auto outcomes = SaveOnEveryProcess(directory, ocdbt, [](int p, Tree& tree) {
    if (p == 1) {  // a shard that does not fit the global shape
      std::get<ShardedArray>(tree["w"].leaf()).shards[0].box.origin[0] = 100;
    }
  });
  for (const auto& outcome : outcomes) EXPECT_FALSE(outcome.has_value());
  EXPECT_FALSE(fs::exists(directory));
}

INSTANTIATE_TEST_SUITE_P(Layouts, MultiProcessTreeTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ocdbt" : "zarr"; });

}  // namespace
}  // namespace stowage
