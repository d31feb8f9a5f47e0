#include "stowage/tree.h"

namespace stowage {

Result<Scalar> Scalar::FromArray(Array value) {
  if (value.rank() != 0) {
    return InvalidArgumentError("a scalar must be 0-d, got shape " + ShapeToString(value.shape()));
  }
  return Scalar(std::move(value));
}

const ArrayView* ArrayViewOf(const Leaf& leaf, ArrayView& storage) {
  if (auto* array = std::get_if<Array>(&leaf)) {
    storage = array->view();
  } else if (auto* view = std::get_if<ArrayView>(&leaf)) {
    storage = *view;
  } else if (auto* scalar = std::get_if<Scalar>(&leaf)) {
    storage = scalar->array().view();
  } else if (auto* sharded = std::get_if<ShardedArray>(&leaf);
             sharded && sharded->shards.size() == 1 &&
             sharded->shards[0].box.shape == sharded->global_shape) {
    storage = sharded->shards[0].data.view();
  } else {
    return nullptr;
  }
  return &storage;
}

}  // namespace stowage
