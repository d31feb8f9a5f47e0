// Linked into every fuzzer: with STOWAGE_FUZZ_WRITE_SEEDS=<dir> in the
// environment, the fuzzer writes its Seeds() into <dir> and exits instead of
// fuzzing (scripts/fuzz.sh --seeds regenerates fuzz/corpus/ this way).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("STOWAGE_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return 0;
  std::filesystem::create_directories(dir);
  for (const auto& seed : stowage::fuzz::Seeds()) {
    std::ofstream out(std::filesystem::path(dir) / seed.name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(seed.bytes.data()),
              static_cast<std::streamsize>(seed.bytes.size()));
    if (!out.flush()) {
      std::fprintf(stderr, "cannot write seed %s\n", seed.name.c_str());
      std::exit(1);
    }
  }
  std::exit(0);
}
