// Saves a float32 array as an Orbax ArrayCheckpointHandler checkpoint with
// an AsyncCheckpointer, keeps computing while it commits, restores it and
// checks it is unchanged.
//
//   save_restore DIR
#include <cmath>
#include <cstdio>
#include <vector>

#include "stowage/stowage.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];

  // 1024 x 1024 float32 values in caller-owned memory.
  std::vector<float> weights(1024 * 1024);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = std::sin(0.001f * i);
  auto view = stowage::ArrayView::Of<float>({1024, 1024}, weights);
  if (!view.has_value()) return 1;

  stowage::AsyncCheckpointer<stowage::ArrayCheckpointHandler> checkpointer{
      stowage::ArrayCheckpointHandler()};
  stowage::SaveArgs save_args;
  save_args.chunk_byte_size = 1 << 20;  // 1 MiB chunks, as Orbax would choose them
  auto committed = checkpointer.AsyncSave(dir, {*view, save_args});
  if (!committed.has_value()) {
    std::fprintf(stderr, "save failed: %s\n", committed.error().ToString().c_str());
    return 1;
  }
  // The array was snapshotted: the caller's buffer is free again.
  std::vector<float> original = weights;
  for (float& w : weights) w *= 0.5f;

  stowage::Status status = committed->Wait();
  if (!status.has_value()) {
    std::fprintf(stderr, "commit failed: %s\n", status.error().ToString().c_str());
    return 1;
  }
  auto restored = checkpointer.Restore(dir);
  if (!restored.has_value()) {
    std::fprintf(stderr, "restore failed: %s\n", restored.error().ToString().c_str());
    return 1;
  }
  const auto& array = std::get<stowage::Array>(*restored);
  auto values = array.values<float>();
  bool equal = std::equal(values.begin(), values.end(), original.begin(), original.end());
  std::printf("saved and restored %s %s to %s: %s\n",
              std::string(stowage::DTypeName(array.dtype())).c_str(),
              stowage::ShapeToString(array.shape()).c_str(), dir.c_str(),
              equal ? "equal" : "DIFFERENT");
  return equal ? 0 : 1;
}
