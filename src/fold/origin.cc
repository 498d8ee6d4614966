#include "fold/origin.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace slip::fold {

std::string describe(const Origin& origin) {
  std::string out = "bucket " + origin.bucket;
  if (origin.prefixes.empty()) return out + ", every key";
  out += ", prefixes";
  for (const std::string& p : origin.prefixes) out += " '" + p + "'";
  return out;
}

std::string encode_origin(const Origin& origin) {
  nlohmann::json j;
  j["bucket"] = origin.bucket;
  j["prefixes"] = origin.prefixes;
  return j.dump();
}

Result<Origin> decode_origin(std::string_view json, const std::string& where) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("bucket") || !j["bucket"].is_string() ||
      !j.contains("prefixes") || !j["prefixes"].is_array()) {
    return Status::corruption(where + ": damaged origin record; move it away to re-record it");
  }
  Origin o;
  o.bucket = j["bucket"].get<std::string>();
  for (const auto& p : j["prefixes"]) {
    if (!p.is_string())
      return Status::corruption(where + ": damaged origin record; move it away to re-record it");
    o.prefixes.push_back(p.get<std::string>());
  }
  std::sort(o.prefixes.begin(), o.prefixes.end());
  o.prefixes.erase(std::unique(o.prefixes.begin(), o.prefixes.end()), o.prefixes.end());
  return o;
}

}  // namespace slip::fold
