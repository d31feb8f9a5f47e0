#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#include "base/bytes.h"
#include "stowage/bytes.h"

namespace stowage {
namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kHugeThreshold = std::size_t{4} << 20;
}  // namespace

void* AllocateBuffer(std::size_t bytes) {
  if (bytes < kHugeThreshold) return std::malloc(bytes ? bytes : 1);
  std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
#ifdef MADV_HUGEPAGE
  if (p) ::madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure is harmless
#endif
  return p;
}

void FreeBuffer(void* pointer) { std::free(pointer); }

std::uint64_t PhysicalMemoryBytes() {
  static const std::uint64_t physical =
      static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  return physical;
}

}  // namespace stowage
