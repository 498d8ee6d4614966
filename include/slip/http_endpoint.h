// A tiny HTTP/1.0 endpoint for metrics scrapes: one background thread,
// one request at a time, GET only, Connection: close. It serves whatever
// RENDER returns for the paths it is given and 404 for the rest. Good
// enough for Prometheus; not a general web server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "slip/status.h"

namespace slip::http {

class Endpoint {
 public:
  // ADDRESS is "HOST:PORT", ":PORT" (every interface) or "[V6]:PORT";
  // port 0 picks a free one. RENDER runs on the endpoint's thread.
  static Result<std::unique_ptr<Endpoint>> start(const std::string& address,
                                                 std::function<std::string()> render);
  virtual ~Endpoint() = default;
  virtual std::uint16_t port() const = 0;
};

}  // namespace slip::http
