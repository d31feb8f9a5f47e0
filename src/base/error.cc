#include "stowage/error.h"

namespace stowage {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kDataLoss:
      return "data loss";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kResourceExhausted:
      return "resource exhausted";
    case ErrorCode::kInternal:
      return "internal error";
    case ErrorCode::kDeadlineExceeded:
      return "deadline exceeded";
    case ErrorCode::kAborted:
      return "aborted";
  }
  return "unknown error";
}

std::string Error::ToString() const { return std::string(ErrorCodeName(code_)) + ": " + message_; }

Error Error::WithContext(std::string_view context) const {
  return Error(code_, std::string(context) + ": " + message_);
}

Error NotFoundError(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
Error InvalidArgumentError(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
Error DataLossError(std::string message) { return {ErrorCode::kDataLoss, std::move(message)}; }
Error UnsupportedError(std::string message) {
  return {ErrorCode::kUnsupported, std::move(message)};
}
Error IoError(std::string message) { return {ErrorCode::kIo, std::move(message)}; }
Error AlreadyExistsError(std::string message) {
  return {ErrorCode::kAlreadyExists, std::move(message)};
}
Error ResourceExhaustedError(std::string message) {
  return {ErrorCode::kResourceExhausted, std::move(message)};
}
Error InternalError(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }
Error DeadlineExceededError(std::string message) {
  return {ErrorCode::kDeadlineExceeded, std::move(message)};
}
Error AbortedError(std::string message) { return {ErrorCode::kAborted, std::move(message)}; }

}  // namespace stowage
