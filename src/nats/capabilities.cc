#include "nats/capabilities.h"

#include "nats/js_api.h"

namespace slip::nats {

Result<int> jetstream_api_level(Connection& conn) {
  if (conn.api_level >= 0) return conn.api_level;
  auto info = js_api_request(conn, "INFO", "", "JetStream account information");
  if (!info) return info.status();
  int level = 0;
  if (auto api = info->find("api"); api != info->end() && api->is_object()) {
    if (auto l = api->find("level"); l != api->end() && l->is_number_integer()) {
      level = std::max(0, l->get<int>());
    }
  }
  conn.api_level = level;
  return level;
}

Status require_2_11(Connection& conn, const std::string& what) {
  auto level = jetstream_api_level(conn);
  if (!level) return level.status();
  if (*level >= 1) return Status::ok();
  return Status::invalid_argument(what + " need nats-server 2.11 or later; this server is older "
                                         "(its JetStream reports no API level)");
}

}  // namespace slip::nats
