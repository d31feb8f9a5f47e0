// Trees to and from `.npz` archives for `import` and `export`: member
// "a/b/c" is the leaf at keys a, b, c (sequence indices as their decimal
// strings).
#pragma once

#include <string>

#include "stowage/tree.h"

namespace stowage::cli {

// The tree whose leaves are the archive's arrays, nested by '/'.
// Errors: those of reading the archive; kInvalidArgument when a member name
// is both a leaf and a subtree.
Result<Tree> ReadTreeFromNpz(const std::string& path);

// Writes every array and scalar leaf of `tree` as a member named by its key
// path joined with '/'. Strings, None and empty nodes have no .npz form and
// are counted in `skipped`.
Status WriteTreeToNpz(const Tree& tree, const std::string& path, std::size_t* skipped);

}  // namespace stowage::cli
