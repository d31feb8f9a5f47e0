// stowage layer: base
//
// Errors are values. Every fallible stowage function returns a `Result<T>`
// (a T or an `Error`) or a `Status` (= `Result<void>`); no exception leaves a
// stowage API. An `Error` carries a stable `ErrorCode` and a message that
// names the file or key it concerns; each layer may prepend what it knows.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace stowage {

// What kind of failure an Error is. Values are stable: scripts see them as
// CLI exit codes (see docs/cli.md).
enum class ErrorCode : int {
  kNotFound = 3,           // a file, key, chunk or tree path is absent
  kInvalidArgument = 4,    // the caller's request is wrong (shape, dtype, option)
  kDataLoss = 5,           // stored bytes are wrong: corrupt, truncated, inconsistent
  kUnsupported = 6,        // valid input this version does not implement
  kIo = 7,                 // the operating system refused (errno), with the path
  kAlreadyExists = 8,      // refusing to overwrite
  kResourceExhausted = 9,  // input asks for more than a configured limit
  kInternal = 10,          // a broken invariant inside stowage (a bug)
  kDeadlineExceeded = 11,  // a collective step across processes timed out
  kAborted = 12,           // another process failed, so this one gave up too
};

// The lower-case name of a code, e.g. "data loss".
std::string_view ErrorCodeName(ErrorCode code);

// A failure: a code plus a human-readable message naming what failed.
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "<code name>: <message>", the form printed by the CLI.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` + ": ", so that a
  // failure reads like a short stack, outermost first.
  Error WithContext(std::string_view context) const;

 private:
  ErrorCode code_;
  std::string message_;
};

Error NotFoundError(std::string message);
Error InvalidArgumentError(std::string message);
Error DataLossError(std::string message);
Error UnsupportedError(std::string message);
Error IoError(std::string message);
Error AlreadyExistsError(std::string message);
Error ResourceExhaustedError(std::string message);
Error InternalError(std::string message);
Error DeadlineExceededError(std::string message);
Error AbortedError(std::string message);

// Holds either a value of type T or an Error. Names follow std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename U>
  requires(std::is_convertible_v<U&&, T> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error>) Result(U&& value)
      : state_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  // The value, or `fallback` when this holds an error.
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Success, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const {
    assert(!has_value());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

namespace internal {
inline Error TakeError(const Status& s) { return s.error(); }
template <typename T>
Error TakeError(const Result<T>& r) {
  return r.error();
}
}  // namespace internal

}  // namespace stowage

#define STOWAGE_CONCAT_INNER(a, b) a##b
#define STOWAGE_CONCAT(a, b) STOWAGE_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define STOWAGE_RETURN_IF_ERROR(expr)                         \
  do {                                                        \
    auto&& stowage_status_ = (expr);                          \
    if (!stowage_status_.has_value()) {                       \
      return ::stowage::internal::TakeError(stowage_status_); \
    }                                                         \
  } while (false)

// `STOWAGE_ASSIGN_OR_RETURN(auto x, F());` binds the value of F() to x, or
// returns its error from the enclosing function.
#define STOWAGE_ASSIGN_OR_RETURN(lhs, expr) \
  STOWAGE_ASSIGN_OR_RETURN_IMPL(STOWAGE_CONCAT(stowage_result_, __LINE__), lhs, expr)

#define STOWAGE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(tmp).value()
