// Small text helpers shared by the library and the commands: hex, base64,
// UTF-8 validation. Internal header (src/), not part of the public API.
#pragma once

#include <string>
#include <string_view>

namespace slip {

std::string to_hex(std::string_view bytes);
std::string to_base64(std::string_view bytes);

// True when BYTES is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

}  // namespace slip

namespace slip {

// Appends TEXT (valid UTF-8) as a JSON string literal, quotes included.
void append_json_string(std::string* out, std::string_view text);

}  // namespace slip
