// stowage layer: base
//
// Arrays split over processes, after jax.Array with a NamedSharding on a
// mesh with one device per process: a Sharding says which box of the global
// array each process holds (and which processes hold copies of the same
// box); a ShardedArray is one process's part of such an array.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stowage/array.h"
#include "stowage/error.h"

namespace stowage {

// A box of a global array: `shape` elements starting at `origin`.
struct Box {
  Shape origin;
  Shape shape;

  std::int64_t num_elements() const;
  bool empty() const { return num_elements() == 0; }
  bool operator==(const Box&) const = default;
};

// Processes arranged in a grid (JAX's Mesh), process i at the row-major
// coordinates of i. The product of `shape` is the process count.
struct ProcessMesh {
  std::vector<int> shape;
  std::vector<std::string> axis_names;  // one per mesh axis, e.g. {"x", "y"}

  int process_count() const;
  // A mesh of `process_count` processes over `axes` axes, as square as
  // possible (MPI_Dims_create's rule: sizes non-increasing).
  static ProcessMesh Balanced(int process_count, int axes);
};

// Which box of a global array each process holds.
class Sharding {
 public:
  // Splits array axis a over mesh axis `mesh_axis_of[a]` (nullopt: not
  // split), as jax.sharding.NamedSharding(mesh, PartitionSpec(...)) does:
  // each of the n parts but the last has ceil(length / n) elements.
  // Processes that differ only along mesh axes no array axis uses hold
  // replicas. Errors: kInvalidArgument (rank mismatch, a mesh axis used
  // twice or out of range, a non-positive mesh size).
  static Result<Sharding> Named(Shape global_shape, ProcessMesh mesh,
                                std::vector<std::optional<int>> mesh_axis_of);

  // Every process holds the whole array.
  static Sharding Replicated(Shape global_shape, int process_count);

  // Explicit boxes, one per process (identical boxes are replicas). No
  // `_sharding` entry can describe these. Errors: kInvalidArgument (a box
  // outside the array or of the wrong rank, boxes that overlap without
  // being equal, or boxes that leave elements uncovered).
  static Result<Sharding> FromBoxes(Shape global_shape, std::vector<Box> boxes);

  const Shape& global_shape() const { return global_shape_; }
  int process_count() const { return static_cast<int>(boxes_.size()); }
  // The box process `process` holds. REQUIRES: 0 <= process < process_count().
  const Box& BoxOf(int process) const { return boxes_.at(process); }
  // 0 for the lowest-numbered process holding its box, 1, 2, ... for the
  // other copies. Only replica 0 writes.
  int ReplicaIdOf(int process) const { return replica_ids_.at(process); }
  // The shape of the first (largest) shard: Orbax's write_shape.
  Shape ShardShape() const;

  // Orbax's `_sharding` value for this sharding (orbax
  // `_src/metadata/sharding.py`, NamedShardingMetadata), with device ids =
  // process indices; empty for FromBoxes shardings.
  std::string OrbaxShardingJson() const;

 private:
  Sharding() = default;
  void AssignReplicaIds();

  Shape global_shape_;
  std::vector<Box> boxes_;
  std::vector<int> replica_ids_;
  std::optional<ProcessMesh> mesh_;
  std::vector<std::optional<int>> mesh_axis_of_;
};

// One process's part of a sharded array: the global shape and dtype, and
// the boxes this process holds with their values.
struct ShardedArray {
  struct Shard {
    Box box;
    int replica_id = 0;
    Array data;  // shape == box.shape
  };
  Shape global_shape;
  DType dtype = DType::kFloat32;
  std::vector<Shard> shards;
  // The layout over all processes, when known (a save records it in
  // `_sharding`); shards alone suffice to save.
  std::optional<Sharding> sharding;

  // This process's shard of `sharding`, holding `data` (owned, moved in).
  // Errors: kInvalidArgument when data's shape is not the box's shape.
  static Result<ShardedArray> FromLocal(const Sharding& sharding, int process, Array data);
};

}  // namespace stowage
