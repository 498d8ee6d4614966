#include "location/s3_sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/text.h"
#include "location/digest.h"

namespace slip::location::s3 {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed trimmed, with inner runs of spaces made one.
std::string trim_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Lower-cased, trimmed and sorted by name.
std::vector<std::pair<std::string, std::string>> canonical_headers(const SigningInput& input) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : input.headers) out.emplace_back(lower(name), trim_value(value));
  std::sort(out.begin(), out.end());
  return out;
}

std::string signed_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& h : headers) out += (out.empty() ? "" : ";") + h.first;
  return out;
}

std::string scope(const SigningInput& input) {
  return input.amz_date.substr(0, 8) + "/" + input.region + "/" + input.service + "/aws4_request";
}

}  // namespace

std::string uri_encode(std::string_view text, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string canonical_query_string(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [name, value] : params) {
    name = uri_encode(name, true);
    value = uri_encode(value, true);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

std::string canonical_request(const SigningInput& input) {
  auto headers = canonical_headers(input);
  std::string out = input.method + "\n" + input.canonical_uri + "\n" + input.canonical_query + "\n";
  for (const auto& [name, value] : headers) out += name + ":" + value + "\n";
  out += "\n" + signed_headers(headers) + "\n" + input.payload_hash;
  return out;
}

std::string string_to_sign(const SigningInput& input) {
  return "AWS4-HMAC-SHA256\n" + input.amz_date + "\n" + scope(input) + "\n" +
         sha256_hex(canonical_request(input));
}

std::string signature(const SigningInput& input, std::string_view secret_key) {
  std::string key = hmac_sha256("AWS4" + std::string(secret_key), input.amz_date.substr(0, 8));
  key = hmac_sha256(key, input.region);
  key = hmac_sha256(key, input.service);
  key = hmac_sha256(key, "aws4_request");
  return to_hex(hmac_sha256(key, string_to_sign(input)));
}

std::string authorization_header(const SigningInput& input, const Credentials& credentials) {
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope(input) +
         ",SignedHeaders=" + signed_headers(canonical_headers(input)) +
         ",Signature=" + signature(input, credentials.secret_key);
}

std::string amz_date(long long unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace slip::location::s3
