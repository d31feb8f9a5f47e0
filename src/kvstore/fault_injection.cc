#include "stowage/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <cassert>
#include <string>

#include "kvstore/fault_point.h"

namespace stowage::kvstore {
namespace {

std::atomic<FaultInjector*> installed{nullptr};

std::string_view OpName(FaultOp op) {
  switch (op) {
    case FaultOp::kWrite:
      return "write";
    case FaultOp::kRename:
      return "rename";
    case FaultOp::kFsync:
      return "fsync";
    case FaultOp::kDelete:
      return "delete";
  }
  return "operation";
}

}  // namespace

Status FaultInjector::Before(FaultOp op, std::string_view what, const std::function<void()>& torn) {
  if ((plan_.ops & static_cast<std::uint8_t>(op)) == 0) return OkStatus();
  std::uint64_t n = count_.fetch_add(1) + 1;
  bool at_fault = plan_.at != 0 && (n == plan_.at || (plan_.persistent && n > plan_.at));
  if (!at_fault) return OkStatus();
  fired_.store(true);
  if (torn) torn();
  if (plan_.action == FaultAction::kKill) ::kill(::getpid(), SIGKILL);
  return IoError("injected fault at " + std::string(OpName(op)) + " #" + std::to_string(n) +
                 " of " + std::string(what));
}

ScopedFaultInjection::ScopedFaultInjection(std::shared_ptr<FaultInjector> injector)
    : injector_(std::move(injector)) {
  [[maybe_unused]] FaultInjector* previous = installed.exchange(injector_.get());
  assert(previous == nullptr && "one ScopedFaultInjection at a time");
}

ScopedFaultInjection::~ScopedFaultInjection() { installed.store(nullptr); }

namespace internal {

Status FileFault(FaultOp op, const std::filesystem::path& path, const std::function<void()>& torn) {
  FaultInjector* injector = installed.load(std::memory_order_acquire);
  if (injector == nullptr) return OkStatus();
  return injector->Before(op, path.string(), torn);
}

bool FsyncReachesDisk() {
  FaultInjector* injector = installed.load(std::memory_order_acquire);
  return injector == nullptr || injector->real_fsync();
}

}  // namespace internal

namespace {

// Appends that consult the injector before reaching `inner`.
class FaultyAppendWriter final : public AppendWriter {
 public:
  FaultyAppendWriter(std::unique_ptr<AppendWriter> inner, std::shared_ptr<FaultInjector> injector,
                     std::string key)
      : inner_(std::move(inner)), injector_(std::move(injector)), key_(std::move(key)) {}

  Result<std::uint64_t> Append(std::span<const std::byte> data) override {
    STOWAGE_RETURN_IF_ERROR(injector_->Before(FaultOp::kWrite, key_));
    return inner_->Append(data);
  }
  std::uint64_t size() const override { return inner_->size(); }
  Status Close() override {
    STOWAGE_RETURN_IF_ERROR(injector_->Before(FaultOp::kFsync, key_));
    return inner_->Close();
  }

 private:
  std::unique_ptr<AppendWriter> inner_;
  std::shared_ptr<FaultInjector> injector_;
  std::string key_;
};

class FaultyStore final : public Store {
 public:
  FaultyStore(std::shared_ptr<Store> inner, std::shared_ptr<FaultInjector> injector)
      : inner_(std::move(inner)), injector_(std::move(injector)) {}

  Result<Bytes> Read(std::string_view key, ReadOptions options) const override {
    return inner_->Read(key, options);
  }
  Status ReadInto(std::string_view key, std::span<std::byte> out) const override {
    return inner_->ReadInto(key, out);
  }
  Result<Bytes> ReadRange(std::string_view key, std::uint64_t offset,
                          std::uint64_t length) const override {
    return inner_->ReadRange(key, offset, length);
  }
  Result<std::unique_ptr<AppendWriter>> OpenAppend(std::string_view key) override {
    STOWAGE_ASSIGN_OR_RETURN(auto writer, inner_->OpenAppend(key));
    return std::unique_ptr<AppendWriter>(
        new FaultyAppendWriter(std::move(writer), injector_, inner_->Describe(key)));
  }
  Status Write(std::string_view key, std::span<const std::byte> value,
               WriteOptions options) override {
    // A torn plain write leaves half the value; an atomic one leaves nothing.
    auto torn = [&] {
      if (!options.atomic) (void)inner_->Write(key, value.first(value.size() / 2), options);
    };
    STOWAGE_RETURN_IF_ERROR(injector_->Before(FaultOp::kWrite, inner_->Describe(key), torn));
    return inner_->Write(key, value, options);
  }
  Status Delete(std::string_view key) override {
    STOWAGE_RETURN_IF_ERROR(injector_->Before(FaultOp::kDelete, inner_->Describe(key)));
    return inner_->Delete(key);
  }
  Result<bool> Exists(std::string_view key) const override { return inner_->Exists(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) const override {
    return inner_->List(prefix);
  }
  std::string Describe(std::string_view key) const override { return inner_->Describe(key); }

 private:
  std::shared_ptr<Store> inner_;
  std::shared_ptr<FaultInjector> injector_;
};

}  // namespace

std::unique_ptr<Store> WithFaults(std::shared_ptr<Store> inner,
                                  std::shared_ptr<FaultInjector> injector) {
  return std::make_unique<FaultyStore>(std::move(inner), std::move(injector));
}

}  // namespace stowage::kvstore
