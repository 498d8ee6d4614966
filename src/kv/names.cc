#include <string>

#include "slip/kv.h"

namespace slip::kv {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_key_char(char c) {
  return is_alnum(c) || c == '-' || c == '_' || c == '/' || c == '=' || c == '.';
}

}  // namespace

const char* operation_name(Operation op) {
  switch (op) {
    case Operation::kPut: return "PUT";
    case Operation::kDelete: return "DEL";
    case Operation::kPurge: return "PURGE";
  }
  return "PUT";
}

bool BucketStatus::removes_silently() const {
  if (marker_ttl_ns == 0 && (max_age_ns > 0 || allow_msg_ttl)) return true;
  return allow_msg_ttl && history > 1;
}

bool BucketStatus::evicts_silently() const {
  return discard_old && (max_msgs > 0 || max_bytes > 0);
}

bool Scope::matches(std::string_view key) const {
  if (prefixes.empty()) return true;
  for (const std::string& p : prefixes) {
    if (key.substr(0, p.size()) == p) return true;
  }
  return false;
}

Status validate_bucket_name(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("bucket name is empty");
  for (char c : name) {
    if (!is_alnum(c) && c != '-' && c != '_') {
      return Status::invalid_argument("invalid bucket name '" + std::string(name) +
                                      "': use only letters, digits, '-' and '_'");
    }
  }
  return Status::ok();
}

Status validate_key(std::string_view key) {
  auto bad = [&](const char* why) {
    return Status::invalid_argument("invalid key '" + std::string(key) + "': " + why);
  };
  if (key.empty()) return bad("the key is empty");
  if (key.front() == '.' || key.back() == '.') return bad("a key cannot start or end with '.'");
  if (key.find("..") != std::string_view::npos) return bad("a key cannot contain '..'");
  for (char c : key) {
    if (!is_key_char(c)) return bad("use only letters, digits and - _ / = .");
  }
  return Status::ok();
}

Status validate_prefix(std::string_view prefix) {
  if (prefix.empty())
    return Status::invalid_argument("empty key prefix: omit it to select every key");
  if (prefix.front() == '.')
    return Status::invalid_argument("invalid key prefix '" + std::string(prefix) +
                                    "': it cannot start with '.'");
  for (char c : prefix) {
    if (!is_key_char(c)) {
      return Status::invalid_argument("invalid key prefix '" + std::string(prefix) +
                                      "': use only letters, digits and - _ / = .");
    }
  }
  return Status::ok();
}

}  // namespace slip::kv
