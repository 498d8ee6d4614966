// The one registry of location schemes: parse, redact, open.
#include <cctype>
#include <string>
#include <string_view>

#include "core/text.h"
#include "location/schemes.h"
#include "slip/location.h"

namespace slip::location {

namespace {

struct Scheme {
  std::string_view name;  // lower case, without "://"
  Result<std::unique_ptr<Location>> (*open)(const std::string& url, const std::string& rest,
                                            const Options& options);
};

Result<std::string> percent_decode(std::string_view text, const std::string& url) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int hi = i + 2 < text.size() ? hex_digit_value(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? hex_digit_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      return Status::invalid_argument("bad percent escape in location " + redact_location(url));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<std::unique_ptr<Location>> open_file_url(const std::string& url, const std::string& rest,
                                                const Options& options) {
  // file:///dir (empty host) or file://localhost/dir; anything else names
  // another machine, or is a relative path written with two slashes.
  std::string_view path = rest;
  if (path.substr(0, 9) == "localhost") path.remove_prefix(9);
  if (path.empty() || path[0] != '/') {
    return Status::invalid_argument("location " + redact_location(url) +
                                    ": a file URL needs an absolute path, as in file:///dir/prefix "
                                    "(three slashes); for a relative path give the path alone");
  }
  auto decoded = percent_decode(path, url);
  if (!decoded) return decoded.status();
  return open_file_location(*decoded, options, url);
}

Result<std::unique_ptr<Location>> open_s3_url(const std::string& url, const std::string& rest,
                                              const Options& options) {
  return open_s3_location(rest, options);
}

constexpr Scheme kSchemes[] = {
    {"file", open_file_url},
    {"s3", open_s3_url},
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string known_forms() { return "use file:///dir/prefix, a path, or s3://bucket/prefix"; }

}  // namespace

std::string redact_location(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return url;  // a path: nothing secret in it
  std::size_t start = sep + 3;
  std::string out = url;
  // A query string may carry signatures or tokens: never show its values.
  auto query = out.find('?', start);
  if (query != std::string::npos) out = out.substr(0, query) + "?***";
  // Userinfo ends at the last '@' of the authority; a password may hold '/'
  // or '@' itself, so look for the last '@' before the query.
  auto at = out.rfind('@');
  if (at != std::string::npos && at >= start) out = out.substr(0, start) + "***" + out.substr(at);
  return out;
}

Result<std::unique_ptr<Location>> open_location(const std::string& url, const Options& options) {
  if (url.empty()) {
    return Status::invalid_argument("empty location: " + known_forms());
  }
  auto sep = url.find("://");
  if (sep == std::string::npos) {
    // A bare path, unless it looks like a known scheme missing its slashes.
    auto colon = url.find(':');
    if (colon != std::string::npos && url.find('/') > colon) {
      std::string scheme = lower(std::string_view(url).substr(0, colon));
      for (const auto& s : kSchemes) {
        if (scheme == s.name) {
          return Status::invalid_argument("location " + redact_location(url) + ": did you mean " +
                                          scheme + "://" + url.substr(colon + 1) + "?");
        }
      }
    }
    return open_file_location(url, options, url);
  }
  std::string scheme = lower(std::string_view(url).substr(0, sep));
  for (const auto& s : kSchemes) {
    if (scheme == s.name) return s.open(url, url.substr(sep + 3), options);
  }
  std::string hint = known_forms();
  if (scheme == "http" || scheme == "https") {
    hint = "for an S3-compatible server give s3://bucket/prefix and the server as the endpoint";
  }
  return Status::invalid_argument("unknown location scheme '" + scheme + "://' in " +
                                  redact_location(url) + ": " + hint);
}

}  // namespace slip::location
