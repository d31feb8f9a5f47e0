// Fuzzes the `_CHECKPOINT_METADATA` parser
// (checkpoint::ParseCheckpointMetadata). Invariant: a parsed file re-encodes
// to text that parses back to the same encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "checkpoint/checkpoint_metadata.h"
#include "fuzz_input.h"

using namespace stowage;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = AsStringView(std::as_bytes(std::span(data, size)));
  auto metadata = checkpoint::ParseCheckpointMetadata(text, "_CHECKPOINT_METADATA");
  if (!metadata) return 0;
  std::string encoded = checkpoint::EncodeCheckpointMetadata(*metadata);
  auto again = checkpoint::ParseCheckpointMetadata(encoded, "re-encoded _CHECKPOINT_METADATA");
  fuzz::Check(again.has_value(), "a parsed _CHECKPOINT_METADATA re-encodes to one that parses");
  fuzz::Check(checkpoint::EncodeCheckpointMetadata(*again) == encoded,
              "_CHECKPOINT_METADATA re-encodes the same");
  return 0;
}

std::vector<fuzz::Seed> fuzz::Seeds() {
  std::vector<fuzz::Seed> seeds;
  checkpoint::CheckpointMetadata m;
  seeds.push_back(fuzz::TextSeed("defaults", checkpoint::EncodeCheckpointMetadata(m)));
  m.item_handlers =
      "orbax.checkpoint._src.handlers.pytree_checkpoint_handler.PyTreeCheckpointHandler";
  m.init_timestamp_nsecs = 1732800000000000000;
  m.commit_timestamp_nsecs = 1732800000123456789;
  seeds.push_back(fuzz::TextSeed("single_item", checkpoint::EncodeCheckpointMetadata(m)));
  m.item_handlers = nlohmann::ordered_json::parse(
      R"({"state": "orbax.checkpoint._src.handlers.standard_checkpoint_handler.StandardCheckpointHandler",
          "metadata": "orbax.checkpoint._src.handlers.json_checkpoint_handler.JsonCheckpointHandler"})");
  m.metrics = nlohmann::ordered_json::parse(R"({"loss": 0.25, "acc": [1, 2]})");
  m.custom_metadata = nlohmann::ordered_json::parse(R"({"note": "\u00e9\n", "n": -1e300})");
  seeds.push_back(fuzz::TextSeed("composite", checkpoint::EncodeCheckpointMetadata(m)));
  return seeds;
}
