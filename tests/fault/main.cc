// The fault tests' main: GoogleTest, or with --fault-child a child process
// that runs one save (tests/fault/child.h).
#include <gtest/gtest.h>

#include <string_view>

#include "fault/child.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--fault-child") {
    return stowage::fault::ChildMain(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
