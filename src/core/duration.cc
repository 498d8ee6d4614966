#include "core/duration.h"

#include <cstdlib>
#include <string>

namespace slip {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::string s(text);
  const Status bad =
      Status::invalid_argument("invalid duration '" + s + "': use e.g. 500ms, 5s, 2m, 1h, 1d");
  if (s.empty()) return bad;
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || value < 0) return bad;
  const std::string unit(end);
  double ms;
  if (unit.empty() || unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "m") {
    ms = value * 60'000;
  } else if (unit == "h") {
    ms = value * 3'600'000;
  } else if (unit == "d") {
    ms = value * 86'400'000;
  } else {
    return bad;
  }
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

}  // namespace slip
