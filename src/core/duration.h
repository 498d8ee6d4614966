// Durations as operators type them: "500ms", "5s", "2m", "1h", "1d", or a
// plain number of seconds. Used by every flag that takes a duration.
#pragma once

#include <chrono>
#include <string_view>

#include "slip/status.h"

namespace slip {

Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace slip
