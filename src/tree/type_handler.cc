#include "tree/type_handler.h"

#include "tree/array_type_handlers.h"
#include "tree/pytree.h"

namespace stowage::tree {
namespace {

// Runs a user's CustomTypeHandler as a TypeHandler.
class CustomTypeHandlerAdapter : public TypeHandler {
 public:
  explicit CustomTypeHandlerAdapter(std::shared_ptr<const CustomTypeHandler> custom)
      : custom_(std::move(custom)) {}
  std::string_view typestr() const override { return custom_->typestr(); }
  bool Accepts(const Leaf& leaf) const override { return custom_->Accepts(leaf); }
  Result<SerializedLeaf> Serialize(const ParamInfo& info, Leaf leaf,
                                   const SaveArgs& args) const override {
    if (info.process_index != 0) return SerializedLeaf{Future<void>::Ready(OkStatus()), {}};
    STOWAGE_ASSIGN_OR_RETURN(Future<void> written,
                             custom_->Save(info.store, info.name, std::move(leaf), args));
    return SerializedLeaf{std::move(written), {}};
  }
  Result<Leaf> Deserialize(const ParamInfo& info, const RestoreArgs& args) const override {
    return custom_->Restore(*info.store, info.name, args);
  }

 private:
  std::shared_ptr<const CustomTypeHandler> custom_;
};

bool IsArrayLeaf(const Leaf& leaf) {
  return std::holds_alternative<Array>(leaf) || std::holds_alternative<ArrayView>(leaf);
}

}  // namespace

Result<TypeHandlerRegistry> TypeHandlerRegistry::WithBuiltins(
    const std::vector<std::shared_ptr<const CustomTypeHandler>>& custom) {
  TypeHandlerRegistry registry;
  auto add = [&registry](std::shared_ptr<const TypeHandler> handler) -> Status {
    Status added = registry.Register(std::move(handler));
    if (!added.has_value()) return InvalidArgumentError(added.error().message());
    return OkStatus();
  };
  for (const auto& handler : custom) {
    if (!handler) return InvalidArgumentError("a custom type handler is null");
    if (handler->typestr().empty() || handler->typestr() == kStringTypestr ||
        IsEmptyNodeTypestr(handler->typestr())) {
      return InvalidArgumentError("a custom type handler cannot use the value_type \"" +
                                  std::string(handler->typestr()) + "\"");
    }
    STOWAGE_RETURN_IF_ERROR(add(std::make_shared<CustomTypeHandlerAdapter>(handler)));
  }
  registry.num_custom_ = custom.size();
  STOWAGE_RETURN_IF_ERROR(add(NewNumpyHandler()));
  STOWAGE_RETURN_IF_ERROR(add(NewScalarHandler()));
  STOWAGE_RETURN_IF_ERROR(add(NewJaxArrayHandler()));
  return registry;
}

Status TypeHandlerRegistry::Register(std::shared_ptr<const TypeHandler> handler) {
  for (const auto& existing : handlers_) {
    if (existing->typestr() == handler->typestr()) {
      return AlreadyExistsError("a type handler for \"" + std::string(handler->typestr()) +
                                "\" is already registered");
    }
  }
  handlers_.push_back(std::move(handler));
  return OkStatus();
}

Result<const TypeHandler*> TypeHandlerRegistry::ForLeaf(const Leaf& leaf, const SaveArgs& args,
                                                        ArrayValueType arrays) const {
  if (!args.value_type.empty()) {
    STOWAGE_ASSIGN_OR_RETURN(const TypeHandler* chosen, ForTypestr(args.value_type));
    if (!chosen->Accepts(leaf)) {
      return InvalidArgumentError("the \"" + args.value_type + "\" type handler does not save a " +
                                  std::string(LeafKindName(leaf)) + " leaf");
    }
    return chosen;
  }
  for (std::size_t i = 0; i < num_custom_; ++i) {
    if (handlers_[i]->Accepts(leaf)) return handlers_[i].get();
  }
  if (IsArrayLeaf(leaf)) {
    return ForTypestr(arrays == ArrayValueType::kJaxArray ? kJaxArrayTypestr : kNumpyTypestr);
  }
  if (std::holds_alternative<ShardedArray>(leaf)) return ForTypestr(kJaxArrayTypestr);
  for (const auto& handler : handlers_) {
    if (handler->Accepts(leaf)) return handler.get();
  }
  return UnsupportedError("no type handler saves a " + std::string(LeafKindName(leaf)) + " leaf");
}

Result<const TypeHandler*> TypeHandlerRegistry::ForTypestr(std::string_view typestr) const {
  for (const auto& handler : handlers_) {
    if (handler->typestr() == typestr) return handler.get();
  }
  return UnsupportedError("no type handler restores value_type \"" + std::string(typestr) + "\"");
}

std::string_view LeafKindName(const Leaf& leaf) {
  switch (leaf.index()) {
    case 0:
      return "array";
    case 1:
      return "array view";
    case 2:
      return "scalar";
    case 3:
      return "string";
    default:
      return "sharded array";
  }
}

}  // namespace stowage::tree
