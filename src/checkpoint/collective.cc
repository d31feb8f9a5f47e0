#include "checkpoint/collective.h"

#include <string>

namespace stowage::checkpoint {
namespace {

// "" for OK, else "<code>:<message>".
std::string EncodeStatus(const Status& status) {
  if (status.has_value()) return "";
  return std::to_string(static_cast<int>(status.error().code())) + ":" + status.error().message();
}

Error DecodeError(const std::string& encoded) {
  std::size_t colon = encoded.find(':');
  std::string message = colon == std::string::npos ? encoded : encoded.substr(colon + 1);
  std::string code = colon == std::string::npos ? "" : encoded.substr(0, colon);
  return Error(code.empty() ? ErrorCode::kInternal : static_cast<ErrorCode>(std::stoi(code)),
               message);
}

Error AbortedBecauseOf(int process, std::string_view step, const std::string& encoded) {
  Error cause = DecodeError(encoded);
  return AbortedError("process " + std::to_string(process) + " failed in step \"" +
                      std::string(step) + "\": " + cause.ToString());
}

}  // namespace

Status AgreeOnStatus(Coordinator& coordinator, std::string_view step, const Status& local,
                     std::chrono::milliseconds timeout) {
  STOWAGE_ASSIGN_OR_RETURN(auto all, coordinator.AllGather(step, EncodeStatus(local), timeout));
  if (!local.has_value()) return local;
  for (std::size_t process = 0; process < all.size(); ++process) {
    if (!all[process].empty())
      return AbortedBecauseOf(static_cast<int>(process), step, all[process]);
  }
  return OkStatus();
}

Status ShareFromPrimary(Coordinator& coordinator, std::string_view step, const Status& local,
                        std::chrono::milliseconds timeout) {
  STOWAGE_ASSIGN_OR_RETURN(std::string primary, coordinator.Broadcast(step, EncodeStatus(local),
                                                                      kPrimaryProcess, timeout));
  if (coordinator.process_index() == kPrimaryProcess) return local;
  if (primary.empty()) return OkStatus();
  return AbortedBecauseOf(kPrimaryProcess, step, primary);
}

}  // namespace stowage::checkpoint
