// JSON renderings shared by every command's machine output (documented in
// slip(1), "JSON OUTPUT"): a version token is its revision number when it is
// 8 bytes wide, its lowercase hex otherwise; a value is "value" when it is
// valid UTF-8, "value_b64" otherwise.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/text.h"
#include "slip/version_token.h"

namespace slip::cli {

inline nlohmann::json version_json(const VersionToken& token) {
  if (auto rev = token.revision()) return *rev;
  return token.hex();
}

inline nlohmann::json version_json(const std::optional<VersionToken>& token) {
  return token ? version_json(*token) : nlohmann::json(nullptr);
}

// Appends ,"version":<rev or "hex"> to a hand-built JSON line.
inline void append_version_field(std::string* out, const char* name, const VersionToken& token) {
  out->append(",\"").append(name).append("\":");
  if (auto rev = token.revision()) {
    out->append(std::to_string(*rev));
  } else {
    out->push_back('"');
    out->append(token.hex());
    out->push_back('"');
  }
}

// Appends ,"value":"..." or ,"value_b64":"..." to a hand-built JSON line.
inline void append_value_field(std::string* out, std::string_view value) {
  if (is_valid_utf8(value)) {
    out->append(",\"value\":");
    append_json_string(out, value);
  } else {
    out->append(",\"value_b64\":\"").append(to_base64(value)).push_back('"');
  }
}

}  // namespace slip::cli
