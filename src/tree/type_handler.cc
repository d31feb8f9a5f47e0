#include "tree/type_handler.h"

#include "tree/array_type_handlers.h"

namespace stowage::tree {

TypeHandlerRegistry TypeHandlerRegistry::WithBuiltins() {
  TypeHandlerRegistry registry;
  (void)registry.Register(NewNumpyHandler());
  (void)registry.Register(NewScalarHandler());
  (void)registry.Register(NewJaxArrayReadHandler());
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

Result<const TypeHandler*> TypeHandlerRegistry::ForLeaf(const Leaf& leaf) const {
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
    default:
      return "string";
  }
}

}  // namespace stowage::tree
