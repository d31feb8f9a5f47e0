// Step folder names, as Orbax's standard NameFormat builds and matches them
// (orbax `_src/path/step.py` `_StandardNameFormat`): `[<prefix>_]<digits>`,
// the digits either `0|[1-9][0-9]*` or, with a fixed length n, exactly n
// digits starting with 0 or at least n starting with 1-9.
#include <charconv>
#include <string>

#include "stowage/checkpoint_manager.h"

namespace stowage {
namespace {

std::string PrefixOf(const StepNameFormat& format) {
  return format.prefix.empty() ? std::string() : format.prefix + "_";
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Whether `digits` is spelt as Orbax spells a step under `fixed_length`.
bool CanonicalDigits(std::string_view digits, std::optional<int> fixed_length) {
  bool leading_zero = digits.front() == '0';
  if (fixed_length && *fixed_length > 0) {
    auto n = static_cast<std::size_t>(*fixed_length);
    return leading_zero ? digits.size() == n : digits.size() >= n;
  }
  return !leading_zero || digits.size() == 1;
}

}  // namespace

std::string StepNameFormat::Name(std::int64_t step) const {
  std::string digits = std::to_string(step);
  if (fixed_length && digits.size() < static_cast<std::size_t>(*fixed_length)) {
    digits.insert(0, static_cast<std::size_t>(*fixed_length) - digits.size(), '0');
  }
  return PrefixOf(*this) + digits;
}

std::optional<std::int64_t> StepNameFormat::Parse(std::string_view name) const {
  std::string prefix = PrefixOf(*this);
  if (!name.starts_with(prefix)) return std::nullopt;
  std::string_view digits = name.substr(prefix.size());
  if (!AllDigits(digits) || !CanonicalDigits(digits, fixed_length)) return std::nullopt;
  std::int64_t step = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return step;
}

}  // namespace stowage
