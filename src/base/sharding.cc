#include "stowage/sharding.h"

#include <algorithm>
#include <set>

#include "base/python_json.h"

namespace stowage {
namespace {

// Row-major coordinates of `index` in a grid of `shape`.
std::vector<int> Unravel(int index, const std::vector<int>& shape) {
  std::vector<int> coords(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    coords[d] = index % shape[d];
    index /= shape[d];
  }
  return coords;
}

// Part `part` of `parts` of an axis of `length`: JAX's ceil-sized splits.
std::pair<std::int64_t, std::int64_t> SplitRange(std::int64_t length, int parts, int part) {
  std::int64_t size = (length + parts - 1) / parts;
  std::int64_t begin = std::min(length, size * part);
  return {begin, std::min(length, begin + size) - begin};
}

bool Overlap(const Box& a, const Box& b) {
  for (std::size_t d = 0; d < a.origin.size(); ++d) {
    if (a.origin[d] + a.shape[d] <= b.origin[d] || b.origin[d] + b.shape[d] <= a.origin[d]) {
      return false;
    }
  }
  return !a.empty() && !b.empty();
}

Status ValidateBox(const Box& box, const Shape& global_shape, int process) {
  std::string where = "the box of process " + std::to_string(process);
  if (box.origin.size() != global_shape.size() || box.shape.size() != global_shape.size()) {
    return InvalidArgumentError(where + " has the wrong rank");
  }
  for (std::size_t d = 0; d < global_shape.size(); ++d) {
    if (box.origin[d] < 0 || box.shape[d] < 0 || box.origin[d] + box.shape[d] > global_shape[d]) {
      return InvalidArgumentError(where + " (origin " + ShapeToString(box.origin) + ", shape " +
                                  ShapeToString(box.shape) + ") lies outside the array " +
                                  ShapeToString(global_shape));
    }
  }
  return OkStatus();
}

// nested lists of {"id": i} in the mesh's shape (orbax DeviceMetadataMesh).
nlohmann::ordered_json DeviceMesh(const std::vector<int>& shape, std::size_t axis, int& next) {
  nlohmann::ordered_json level = nlohmann::ordered_json::array();
  for (int i = 0; i < shape[axis]; ++i) {
    if (axis + 1 == shape.size()) {
      level.push_back({{"id", next++}});
    } else {
      level.push_back(DeviceMesh(shape, axis + 1, next));
    }
  }
  return level;
}

}  // namespace

std::int64_t Box::num_elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int ProcessMesh::process_count() const {
  int n = 1;
  for (int d : shape) n *= d;
  return n;
}

ProcessMesh ProcessMesh::Balanced(int process_count, int axes) {
  ProcessMesh mesh;
  mesh.shape.assign(std::max(axes, 1), 1);
  int remaining = process_count;
  for (int factor = 2; remaining > 1;) {  // largest prime factors to the smallest axis
    if (remaining % factor != 0) {
      ++factor;
      continue;
    }
    *std::min_element(mesh.shape.begin(), mesh.shape.end()) *= factor;
    remaining /= factor;
  }
  std::sort(mesh.shape.rbegin(), mesh.shape.rend());
  const char* names[] = {"x", "y", "z"};
  for (std::size_t i = 0; i < mesh.shape.size(); ++i) {
    mesh.axis_names.push_back(i < 3 ? names[i] : "axis" + std::to_string(i));
  }
  return mesh;
}

Result<Sharding> Sharding::Named(Shape global_shape, ProcessMesh mesh,
                                 std::vector<std::optional<int>> mesh_axis_of) {
  if (mesh_axis_of.size() != global_shape.size()) {
    return InvalidArgumentError("a partition spec of " + std::to_string(mesh_axis_of.size()) +
                                " axes for an array of rank " +
                                std::to_string(global_shape.size()));
  }
  if (mesh.axis_names.size() != mesh.shape.size()) {
    return InvalidArgumentError("the mesh needs one name per axis");
  }
  for (int size : mesh.shape) {
    if (size <= 0) return InvalidArgumentError("mesh axis sizes must be positive");
  }
  std::set<int> used;
  for (const auto& axis : mesh_axis_of) {
    if (!axis) continue;
    if (*axis < 0 || *axis >= static_cast<int>(mesh.shape.size()) || !used.insert(*axis).second) {
      return InvalidArgumentError("mesh axis " + std::to_string(*axis) +
                                  " is out of range or used twice");
    }
  }
  Sharding sharding;
  sharding.global_shape_ = std::move(global_shape);
  for (int p = 0; p < mesh.process_count(); ++p) {
    std::vector<int> coords = Unravel(p, mesh.shape);
    Box box{Shape(sharding.global_shape_.size(), 0), sharding.global_shape_};
    for (std::size_t a = 0; a < mesh_axis_of.size(); ++a) {
      if (!mesh_axis_of[a]) continue;
      int m = *mesh_axis_of[a];
      std::tie(box.origin[a], box.shape[a]) =
          SplitRange(sharding.global_shape_[a], mesh.shape[m], coords[m]);
    }
    sharding.boxes_.push_back(std::move(box));
  }
  sharding.mesh_ = std::move(mesh);
  sharding.mesh_axis_of_ = std::move(mesh_axis_of);
  sharding.AssignReplicaIds();
  return sharding;
}

Sharding Sharding::Replicated(Shape global_shape, int process_count) {
  ProcessMesh mesh{{std::max(process_count, 1)}, {"x"}};
  std::vector<std::optional<int>> spec(global_shape.size());
  return Named(std::move(global_shape), std::move(mesh), std::move(spec)).value();
}

Result<Sharding> Sharding::FromBoxes(Shape global_shape, std::vector<Box> boxes) {
  if (boxes.empty()) return InvalidArgumentError("a sharding needs at least one process");
  std::int64_t covered = 0;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    STOWAGE_RETURN_IF_ERROR(ValidateBox(boxes[i], global_shape, static_cast<int>(i)));
    bool repeat = false;
    for (std::size_t j = 0; j < i; ++j) {
      if (boxes[j] == boxes[i]) {
        repeat = true;
        break;
      }
      if (Overlap(boxes[j], boxes[i])) {
        return InvalidArgumentError("the boxes of processes " + std::to_string(j) + " and " +
                                    std::to_string(i) + " overlap without being equal");
      }
    }
    if (!repeat) covered += boxes[i].num_elements();
  }
  STOWAGE_ASSIGN_OR_RETURN(std::int64_t total, NumElements(global_shape));
  if (covered != total) {
    return InvalidArgumentError("the boxes cover " + std::to_string(covered) + " of the " +
                                std::to_string(total) + " elements of the array");
  }
  Sharding sharding;
  sharding.global_shape_ = std::move(global_shape);
  sharding.boxes_ = std::move(boxes);
  sharding.AssignReplicaIds();
  return sharding;
}

void Sharding::AssignReplicaIds() {
  replica_ids_.assign(boxes_.size(), 0);
  for (std::size_t i = 0; i < boxes_.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) replica_ids_[i] += boxes_[j] == boxes_[i] ? 1 : 0;
  }
}

Shape Sharding::ShardShape() const { return boxes_.front().shape; }

std::string Sharding::OrbaxShardingJson() const {
  if (!mesh_) return "";
  nlohmann::ordered_json spec = nlohmann::ordered_json::array();
  for (const auto& axis : mesh_axis_of_) {
    spec.push_back(axis ? nlohmann::ordered_json(mesh_->axis_names[*axis]) : nullptr);
  }
  int next_id = 0;
  nlohmann::ordered_json sharding = {
      {"sharding_type", "NamedSharding"},
      {"shape", mesh_->shape},
      {"axis_names", mesh_->axis_names},
      {"axis_types", std::vector<std::string>(mesh_->shape.size(), "AxisType.Auto")},
      {"partition_spec", std::move(spec)},
      {"device_mesh", {{"mesh", DeviceMesh(mesh_->shape, 0, next_id)}}}};
  return DumpPythonJson(sharding);
}

Result<ShardedArray> ShardedArray::FromLocal(const Sharding& sharding, int process, Array data) {
  if (process < 0 || process >= sharding.process_count()) {
    return InvalidArgumentError("process " + std::to_string(process) + " is not in a sharding of " +
                                std::to_string(sharding.process_count()) + " processes");
  }
  const Box& box = sharding.BoxOf(process);
  if (data.shape() != box.shape) {
    return InvalidArgumentError("process " + std::to_string(process) + " holds a box of shape " +
                                ShapeToString(box.shape) + ", not " + ShapeToString(data.shape()));
  }
  ShardedArray array{sharding.global_shape(), data.dtype(), {}, sharding};
  array.shards.push_back({box, sharding.ReplicaIdOf(process), std::move(data)});
  return array;
}

}  // namespace stowage
