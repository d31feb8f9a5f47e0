// The tree of Orbax's compatibility fixtures (orbax-compat/PROVENANCE.md and
// the managed-checkpoint fixtures): {a: arange(8), b: {c: [1, 2, 3]}}, int32.
#pragma once

#include <cstdint>
#include <vector>

#include "stowage/array.h"
#include "stowage/tree.h"

namespace stowage::testing {

inline Tree OrbaxCompatTree() {
  Tree tree;
  tree["a"] =
      Array::FromValues<std::int32_t>({8}, std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7})
          .value();
  tree["b"]["c"] = Array::FromValues<std::int32_t>({3}, std::vector<std::int32_t>{1, 2, 3}).value();
  return tree;
}

}  // namespace stowage::testing
