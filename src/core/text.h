// Small text helpers shared by the library and the commands: hex, base64,
// UTF-8 validation. Internal header (src/), not part of the public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slip {

std::string to_hex(std::string_view bytes);
// The value of a hex digit of either case, or -1.
int hex_digit_value(char c);
// The bytes of lowercase hex text (what to_hex writes); nullopt for
// anything else (odd length, upper case, other characters).
std::optional<std::string> from_hex(std::string_view hex);
std::string to_base64(std::string_view bytes);
// The bytes of standard base64 text (RFC 4648 section 4; padding optional,
// ASCII whitespace such as line breaks ignored); nullopt for anything else.
std::optional<std::string> from_base64(std::string_view text);

// True when BYTES is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

}  // namespace slip

namespace slip {

// Appends TEXT (valid UTF-8) as a JSON string literal, quotes included.
void append_json_string(std::string* out, std::string_view text);

}  // namespace slip
