#pragma once

#include <cstdint>
#include <string>

namespace slip {

// The wall clock: nanoseconds since the Unix epoch.
std::int64_t now_unix_ns();

// Nanoseconds since the Unix epoch as RFC 3339 UTC with nanoseconds:
// "2026-11-25T21:02:56.123456789Z".
std::string format_rfc3339(std::int64_t unix_ns);

// The same, appended to OUT (no allocation beyond OUT's own growth).
void append_rfc3339(std::string* out, std::int64_t unix_ns);

}  // namespace slip
