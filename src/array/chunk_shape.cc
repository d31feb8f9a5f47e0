#include "array/chunk_shape.h"

#include <algorithm>
#include <string>
#include <vector>

namespace stowage::array_io {
namespace {

// Sorted divisors of `n` (n >= 1).
std::vector<std::int64_t> Divisors(std::int64_t n) {
  std::vector<std::int64_t> small, large;
  for (std::int64_t i = 1; i * i <= n; ++i) {
    if (n % i == 0) {
      small.push_back(i);
      if (i != n / i) large.push_back(n / i);
    }
  }
  small.insert(small.end(), large.rbegin(), large.rend());
  return small;
}

// The greedy state: per dimension its remaining divisors (last = current
// chunk size), which dimensions count as sharded, and the element count.
struct Reducer {
  std::vector<std::vector<std::int64_t>> factors;
  std::vector<bool> sharded;
  std::int64_t total = 1;

  std::int64_t current(int d) const { return factors[d].back(); }
  bool can_reduce(int d) const { return factors[d].size() > 1; }
  void Reduce(int d) {
    std::int64_t old_size = factors[d].back();
    factors[d].pop_back();
    total = total / old_size * factors[d].back();
    sharded[d] = true;
  }
};

// Phase A: round-robin over the requested shard axes that are sharded and
// divisible, smallest step first, while the chunk is too big.
void ReduceShardAxes(Reducer& r, std::span<const int> shard_axes, std::int64_t target) {
  bool progressed = true;
  while (progressed && r.total > target) {
    progressed = false;
    std::vector<int> candidates;
    for (int axis : shard_axes) {
      if (r.sharded[axis] && r.can_reduce(axis)) candidates.push_back(axis);
    }
    while (!candidates.empty() && r.total > target) {
      progressed = true;
      auto step = [&](int d) {
        return r.factors[d].back() / r.factors[d][r.factors[d].size() - 2];
      };
      auto best = std::min_element(candidates.begin(), candidates.end(),
                                   [&](int a, int b) { return step(a) < step(b); });
      r.Reduce(*best);
      candidates.erase(best);
    }
  }
}

// Phase B: split the largest sharded dimension; when none is left, treat
// every dimension as sharded.
void ReduceLargest(Reducer& r, std::int64_t target) {
  int rank = static_cast<int>(r.factors.size());
  while (r.total > target) {
    int best = -1;
    std::int64_t best_size = 1;
    for (int d = 0; d < rank; ++d) {
      if (r.sharded[d] && r.current(d) > best_size) {
        best_size = r.current(d);
        best = d;
      }
    }
    if (best >= 0) {
      r.Reduce(best);
    } else {
      std::fill(r.sharded.begin(), r.sharded.end(), true);
    }
  }
}

}  // namespace

Result<Shape> ChooseChunkShape(std::span<const std::int64_t> global_shape,
                               std::span<const std::int64_t> write_shape, DType dtype,
                               std::optional<std::int64_t> target_byte_size,
                               std::span<const int> shard_axes) {
  if (global_shape.size() != write_shape.size()) {
    return InvalidArgumentError("global shape " + ShapeToString(global_shape) +
                                " and write shape " + ShapeToString(write_shape) +
                                " differ in rank");
  }
  int rank = static_cast<int>(write_shape.size());
  Shape write(rank);
  for (int d = 0; d < rank; ++d) write[d] = std::max<std::int64_t>(1, write_shape[d]);
  if (!target_byte_size && shard_axes.empty()) return write;

  Reducer r;
  for (int d = 0; d < rank; ++d) {
    r.factors.push_back(Divisors(write[d]));
    r.sharded.push_back(global_shape[d] != write[d]);
    r.total *= write[d];
  }
  for (int axis : shard_axes) {
    if (axis < 0 || axis >= rank) {
      return InvalidArgumentError("shard axis " + std::to_string(axis) + " is outside rank " +
                                  std::to_string(rank));
    }
    while (r.can_reduce(axis)) r.Reduce(axis);
  }
  if (target_byte_size) {
    auto item = static_cast<std::int64_t>(ItemSize(dtype));
    if (*target_byte_size < item) {
      return InvalidArgumentError("chunk byte size " + std::to_string(*target_byte_size) +
                                  " is smaller than one element (" + std::to_string(item) + ")");
    }
    std::int64_t target = *target_byte_size / item;
    ReduceShardAxes(r, shard_axes, target);
    ReduceLargest(r, target);
  }
  Shape chunk(rank);
  for (int d = 0; d < rank; ++d) chunk[d] = r.current(d);
  return chunk;
}

Shape SlabChunkShape(std::span<const std::int64_t> write_shape, DType dtype,
                     std::int64_t max_bytes) {
  Shape chunk(write_shape.begin(), write_shape.end());
  for (auto& n : chunk) n = std::max<std::int64_t>(1, n);
  auto item = static_cast<std::int64_t>(ItemSize(dtype));
  std::int64_t bytes = item;  // of one index of dimension d with the later ones whole
  for (std::size_t d = chunk.size(); d-- > 0;) {
    if (bytes > max_bytes / chunk[d]) {  // dimension d must be cut
      std::int64_t fit = std::max<std::int64_t>(1, max_bytes / bytes);
      std::int64_t divisor = 1;
      for (std::int64_t candidate : Divisors(chunk[d])) {
        if (candidate <= fit) divisor = candidate;
      }
      chunk[d] = divisor * 2 > fit ? divisor : fit;
      for (std::size_t lead = 0; lead < d; ++lead) chunk[lead] = 1;
      return chunk;
    }
    bytes *= chunk[d];
  }
  return chunk;
}

}  // namespace stowage::array_io
