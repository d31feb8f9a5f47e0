#include "fault/scenarios.h"

#include <thread>

#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpointer.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "stowage/sharding.h"
#include "testutil/thread_coordinator.h"

namespace stowage::fault {
namespace {

namespace fs = std::filesystem;

constexpr int kVersions = 3;

// Values that differ between versions and between elements.
template <typename T>
Array Filled(Shape shape, int version, int salt) {
  Array array = Array::Zeros(kDTypeOf<T>, shape).value();
  auto values = array.mutable_values<T>();
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<T>(version * 1000 + salt * 100 + static_cast<int>(i % 97));
  }
  return array;
}

// Several leaves, some cut into several chunks, and a scalar.
Tree TreeOf(int version) {
  Tree tree;
  tree["params"]["w"] = Filled<float>({16, 8}, version, 1);
  tree["params"]["b"] = Filled<std::int32_t>({24}, version, 2);
  tree["opt"]["mu"] = Filled<double>({10}, version, 3);
  tree["step"] = Scalar::Of(std::int64_t{version});
  return tree;
}

bool SameLeaf(const Tree& got, const Tree& want) {
  const Leaf& a = got.leaf();
  const Leaf& b = want.leaf();
  if (const auto* scalar = std::get_if<Scalar>(&b)) {
    const auto* other = std::get_if<Scalar>(&a);
    return other != nullptr && other->As<std::int64_t>() == scalar->As<std::int64_t>();
  }
  const auto* array = std::get_if<Array>(&a);
  return array != nullptr && BitwiseEqual(array->view(), std::get<Array>(b).view());
}

bool SameTree(const Tree& got, const Tree& want) {
  for (const auto& [group, leaves] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"params", {"w", "b"}}, {"opt", {"mu"}}}) {
    const Tree* node = got.Find(group);
    if (node == nullptr) return false;
    for (const auto& name : leaves) {
      const Tree* leaf = node->Find(name);
      if (leaf == nullptr || !SameLeaf(*leaf, *want.Find(group)->Find(name))) return false;
    }
  }
  const Tree* step = got.Find("step");
  return step != nullptr && SameLeaf(*step, *want.Find("step"));
}

// The version whose content `matches` accepts, else kDataLoss.
Result<int> VersionMatching(const fs::path& directory, const std::function<bool(int)>& matches) {
  for (int version = 1; version <= kVersions; ++version) {
    if (matches(version)) return version;
  }
  return DataLossError(directory.string() + " restores to values of no saved version");
}

Scenario TreeScenario(std::string name, bool ocdbt, bool zarr3, bool async = false) {
  auto options = [=] {
    PyTreeCheckpointHandlerOptions o;
    o.use_ocdbt = ocdbt;
    o.use_zarr3 = zarr3;
    o.num_threads = 2;
    return o;
  };
  Scenario s;
  s.name = std::move(name);
  s.save = [=](const fs::path& directory, int version, bool force) -> Status {
    PyTreeSaveArgs args{TreeOf(version), {}, {}};
    args.save_args["params.w"].chunk_byte_size = 128;  // four chunks
    if (async) {
      AsyncCheckpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options())};
      STOWAGE_ASSIGN_OR_RETURN(
          auto committed, checkpointer.AsyncSave(directory, std::move(args), {.force = force}));
      return committed.Wait();
    }
    Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options())};
    return checkpointer.Save(directory, std::move(args), {.force = force});
  };
  s.restored_version = [=](const fs::path& directory) -> Result<int> {
    Checkpointer<PyTreeCheckpointHandler> checkpointer{PyTreeCheckpointHandler(options())};
    STOWAGE_ASSIGN_OR_RETURN(Tree got, checkpointer.Restore(directory));
    return VersionMatching(directory, [&](int v) { return SameTree(got, TreeOf(v)); });
  };
  return s;
}

Scenario ArrayScenario() {
  Scenario s;
  s.name = "array";
  s.save = [](const fs::path& directory, int version, bool force) {
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
    SaveArgs args;
    args.chunk_byte_size = 256;  // four chunks
    return checkpointer.Save(directory, {Filled<float>({256}, version, 4), args}, {.force = force});
  };
  s.restored_version = [](const fs::path& directory) -> Result<int> {
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
    STOWAGE_ASSIGN_OR_RETURN(Leaf got, checkpointer.Restore(directory));
    const auto* array = std::get_if<Array>(&got);
    return VersionMatching(directory, [&](int v) {
      return array != nullptr && BitwiseEqual(array->view(), Filled<float>({256}, v, 4).view());
    });
  };
  return s;
}

constexpr int kProcesses = 2;
const Shape kGlobalShape{8, 16};

// Two processes (threads with ThreadCoordinators) each save their half of
// one array; the outcome must be the same on both.
Scenario MultiProcessScenario(std::string name, bool ocdbt) {
  auto options = [=](std::shared_ptr<Coordinator> coordinator) {
    ArrayCheckpointHandlerOptions o;
    o.use_ocdbt = ocdbt;
    o.num_threads = 1;
    o.coordinator = std::move(coordinator);
    o.collective_timeout = std::chrono::seconds(20);
    return o;
  };
  Scenario s;
  s.name = std::move(name);
  s.save = [=](const fs::path& directory, int version, bool force) -> Status {
    auto coordinators = testing::ThreadCoordinators(kProcesses);
    Sharding sharding =
        Sharding::Named(kGlobalShape, ProcessMesh::Balanced(kProcesses, 1), {0, std::nullopt})
            .value();
    Array whole = Filled<float>(kGlobalShape, version, 5);
    std::vector<Status> outcomes(kProcesses, OkStatus());
    std::vector<std::thread> processes;
    for (int p = 0; p < kProcesses; ++p) {
      processes.emplace_back([&, p] {
        const Box& box = sharding.BoxOf(p);
        Array local = Array::Zeros(DType::kFloat32, box.shape).value();
        auto all = whole.values<float>();
        auto mine = local.mutable_values<float>();
        std::copy_n(all.begin() + box.origin[0] * kGlobalShape[1], mine.size(), mine.begin());
        Checkpointer<ArrayCheckpointHandler> checkpointer{
            ArrayCheckpointHandler(options(coordinators[p]))};
        outcomes[p] = checkpointer.Save(
            directory, {ShardedArray::FromLocal(sharding, p, std::move(local)).value(), {}},
            {.force = force});
      });
    }
    for (auto& process : processes) process.join();
    if (outcomes[0].has_value() != outcomes[1].has_value()) {
      return InternalError(
          "the processes disagree on the save's outcome: " +
          (outcomes[0].has_value() ? outcomes[1] : outcomes[0]).error().ToString());
    }
    return outcomes[0];
  };
  s.restored_version = [](const fs::path& directory) -> Result<int> {
    Checkpointer<ArrayCheckpointHandler> checkpointer{ArrayCheckpointHandler()};
    ArrayRestoreArgs args;
    args.restore_args.restore_type = RestoreType::kArray;
    STOWAGE_ASSIGN_OR_RETURN(Leaf got, checkpointer.Restore(directory, args));
    const auto* array = std::get_if<Array>(&got);
    return VersionMatching(directory, [&](int v) {
      return array != nullptr &&
             BitwiseEqual(array->view(), Filled<float>(kGlobalShape, v, 5).view());
    });
  };
  return s;
}

}  // namespace

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> scenarios = {
      ArrayScenario(),
      TreeScenario("tree", /*ocdbt=*/false, /*zarr3=*/false),
      TreeScenario("ocdbt", /*ocdbt=*/true, /*zarr3=*/false),
      TreeScenario("zarr3", /*ocdbt=*/false, /*zarr3=*/true),
      TreeScenario("async_ocdbt", /*ocdbt=*/true, /*zarr3=*/false, /*async=*/true),
      MultiProcessScenario("multiprocess", /*ocdbt=*/false),
      MultiProcessScenario("multiprocess_ocdbt", /*ocdbt=*/true),
  };
  return scenarios;
}

const Scenario* FindScenario(const std::string& name) {
  for (const auto& scenario : Scenarios()) {
    if (scenario.name == name) return &scenario;
  }
  return nullptr;
}

}  // namespace stowage::fault
