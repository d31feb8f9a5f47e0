// Saves one training step the way Orbax's CheckpointManager lays it out: a
// composite of `state` (a tree of jax.Array-recorded arrays and a step
// counter) and `metadata` (JSON), asynchronously and atomically; restores it
// and checks every value. JAX restores the result with
// `ocp.Checkpointer(ocp.CompositeCheckpointHandler()).restore(DIR)`.
//
//   training_step DIR
#include <cstdio>
#include <vector>

#include "stowage/stowage.h"

namespace {

stowage::Array Ramp(stowage::Shape shape, float scale) {
  auto array = stowage::Array::Zeros(stowage::DType::kFloat32, shape).value();
  auto values = array.mutable_values<float>();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = scale * static_cast<float>(i);
  return array;
}

stowage::Tree TrainState() {
  stowage::Tree state;
  state["params"]["dense"]["kernel"] = Ramp({256, 128}, 0.5f);
  state["params"]["dense"]["bias"] = Ramp({128}, -1.0f);
  state["opt_state"].Append(stowage::Scalar::Of(std::int64_t{42}));  // optax count
  state["opt_state"].Append(stowage::Tree::EmptyMap());
  state["step"] = stowage::Scalar::Of(std::int64_t{1000});
  return state;
}

bool SameFloats(const stowage::Tree& restored, const stowage::Array& expected) {
  const auto& array = std::get<stowage::Array>(restored.leaf());
  auto got = array.values<float>();
  auto want = expected.values<float>();
  return array.shape() == expected.shape() && std::equal(got.begin(), got.end(), want.begin());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];

  stowage::CompositeCheckpointHandlerOptions options;
  options.pytree.array_value_type = stowage::ArrayValueType::kJaxArray;
  stowage::AsyncCheckpointer<stowage::CompositeCheckpointHandler> checkpointer{
      stowage::CompositeCheckpointHandler(options)};

  stowage::CompositeSaveArgs step;
  step.items.emplace_back("state", stowage::PyTreeSaveArgs{TrainState()});
  step.items.emplace_back("metadata", stowage::JsonSaveArgs{{{"epoch", 3}, {"lr", 0.001}}});
  auto committed = checkpointer.AsyncSave(dir, std::move(step), {.force = true});
  if (!committed.has_value()) {
    std::fprintf(stderr, "save: %s\n", committed.error().ToString().c_str());
    return 1;
  }
  // ... the next training steps would run here while the step commits ...
  if (auto status = committed->Wait(); !status.has_value()) {
    std::fprintf(stderr, "commit: %s\n", status.error().ToString().c_str());
    return 1;
  }

  auto items = checkpointer.Restore(dir);
  if (!items.has_value()) {
    std::fprintf(stderr, "restore: %s\n", items.error().ToString().c_str());
    return 1;
  }
  const auto& state = std::get<stowage::Tree>(items->at("state"));
  const auto& metadata = std::get<nlohmann::ordered_json>(items->at("metadata"));
  const stowage::Tree* dense = state.Find("params")->Find("dense");
  bool ok = SameFloats(*dense->Find("kernel"), Ramp({256, 128}, 0.5f)) &&
            SameFloats(*dense->Find("bias"), Ramp({128}, -1.0f)) &&
            std::get<stowage::Scalar>(state.Find("step")->leaf()).As<std::int64_t>() == 1000 &&
            state.Find("opt_state")->sequence().at(1).is_map() && metadata["epoch"] == 3;
  std::printf("training step saved to %s and restored: %s (metadata %s)\n", dir.c_str(),
              ok ? "identical" : "MISMATCH", metadata.dump().c_str());
  return ok ? 0 : 1;
}
