#include "slip/nats.h"

namespace slip::nats {

std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  // The userinfo ends at the last '@' before the host; a password may hold
  // '/', '@' or ':' itself, so neither the first '@' nor a '/' ends it.
  auto at = url.rfind('@');
  if (at == std::string::npos || at < start) return url;
  auto colon = url.find(':', start);
  if (colon != std::string::npos && colon < at) {
    return url.substr(0, colon + 1) + "***" + url.substr(at);
  }
  // A lone userinfo may be a token: hide it whole.
  return url.substr(0, start) + "***" + url.substr(at);
}

}  // namespace slip::nats
