// stowage layer: base
//
// Byte buffers. `Bytes` is a std::vector<std::byte> whose resize leaves new
// bytes uninitialised (every producer overwrites them), and whose large
// allocations ask the kernel for transparent huge pages, so filling a big
// buffer costs one page fault per 2 MiB rather than per 4 KiB.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace stowage {

// malloc for buffers: 2 MiB-aligned with MADV_HUGEPAGE at 4 MiB and above.
// Returns nullptr when out of memory. Release with FreeBuffer.
void* AllocateBuffer(std::size_t bytes);
void FreeBuffer(void* pointer);

// An allocator that default-initialises (no zeroing) and uses AllocateBuffer.
template <typename T>
struct BufferAllocator {
  using value_type = T;
  BufferAllocator() = default;
  template <typename U>
  BufferAllocator(const BufferAllocator<U>&) {}  // NOLINT
  T* allocate(std::size_t n) {
    void* p = AllocateBuffer(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { FreeBuffer(p); }
  template <typename U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;  // default-init: bytes stay uninitialised
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const BufferAllocator<U>&) const {
    return true;
  }
};

// An owned, contiguous byte buffer.
using Bytes = std::vector<std::byte, BufferAllocator<std::byte>>;

}  // namespace stowage
