// Helpers shared by stowage's tests: temporary directories and fixture lookup.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "stowage/error.h"

namespace stowage::testing {

// A fresh directory under the system temp dir, removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  // A fresh directory under `parent`.
  explicit TempDir(const std::filesystem::path& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A directory for temporary files held in memory (/dev/shm) when there is
// one, else the system temp dir: for tests that make many small saves.
std::filesystem::path MemoryTempRoot();

// The shared/ folder beside the checkout (env STOWAGE_SHARED_DIR), if present.
std::optional<std::filesystem::path> SharedDir();

// Path of a fixture below shared/fixtures, or nullopt when it is absent
// (callers GTEST_SKIP() then).
std::optional<std::filesystem::path> FixturePath(const std::string& relative);

// Whole file as a string; fails the test when it cannot be read.
std::string ReadFileOrDie(const std::filesystem::path& path);

// The names of the entries directly in `dir`, sorted.
std::vector<std::string> NamesIn(const std::filesystem::path& dir);

}  // namespace stowage::testing

// Asserts a Result/Status holds a value, printing the error otherwise.
#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    auto&& stowage_r_ = (expr);                                           \
    ASSERT_TRUE(stowage_r_.has_value()) << stowage_r_.error().ToString(); \
  } while (false)

#define EXPECT_OK(expr)                                                   \
  do {                                                                    \
    auto&& stowage_r_ = (expr);                                           \
    EXPECT_TRUE(stowage_r_.has_value()) << stowage_r_.error().ToString(); \
  } while (false)

// Asserts a Result/Status failed with `code`.
#define EXPECT_ERROR_CODE(expr, expected_code)                                            \
  do {                                                                                    \
    auto&& stowage_r_ = (expr);                                                           \
    ASSERT_FALSE(stowage_r_.has_value()) << "expected an error, got a value";             \
    EXPECT_EQ(stowage_r_.error().code(), expected_code) << stowage_r_.error().ToString(); \
  } while (false)

// `ASSERT_OK_AND_ASSIGN(auto x, F());`
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(STOWAGE_CONCAT(stowage_t_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)         \
  auto tmp = (expr);                                      \
  ASSERT_TRUE(tmp.has_value()) << tmp.error().ToString(); \
  lhs = std::move(tmp).value()
