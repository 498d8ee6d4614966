#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slip {

// The wall clock: nanoseconds since the Unix epoch.
std::int64_t now_unix_ns();

// Nanoseconds since the Unix epoch as RFC 3339 UTC with nanoseconds:
// "2026-11-25T21:02:56.123456789Z".
std::string format_rfc3339(std::int64_t unix_ns);

// The same, appended to OUT (no allocation beyond OUT's own growth).
void append_rfc3339(std::string* out, std::int64_t unix_ns);

// Parses RFC 3339 ("2026-11-25T21:02:56.123456789Z", any number of
// fraction digits up to 9, "Z" or a "+HH:MM"/"-HH:MM" offset), as servers
// write timestamps in JSON. nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace slip
