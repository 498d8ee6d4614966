#include "nats/js_api.h"

#include "nats/js_errors.h"
#include "nats/nats_status.h"

namespace slip::nats {

namespace {

// No JetStream answer nests deeper than a handful of levels; a deeper one
// is not from a server we understand, and nlohmann's recursive destructor
// must not meet it.
constexpr int kMaxAnswerDepth = 32;

struct TooDeep {};

}  // namespace

Status js_api_error(int code, int err_code, const std::string& description,
                    std::string_view what) {
  return js_error_status(classify_js_error(code, err_code, description),
                         std::string(what) + ": " + description);
}

Result<nlohmann::json> js_api_request(Connection& conn, std::string_view api,
                                      std::string_view body, std::string_view what) {
  const std::string subject = "$JS.API." + std::string(api);
  natsMsg* raw = nullptr;
  natsStatus s = natsConnection_Request(&raw, conn.nc.get(), subject.c_str(), body.data(),
                                        static_cast<int>(body.size()), conn.wait_ms);
  MsgPtr reply(raw);
  if (s != NATS_OK) return to_status(s, what);
  const char* data = natsMsg_GetData(reply.get());
  const int len = natsMsg_GetDataLength(reply.get());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(
        data, data + len,
        [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          if (depth > kMaxAnswerDepth) throw TooDeep{};
          return true;
        },
        /*allow_exceptions=*/false);
  } catch (const TooDeep&) {
    j = nlohmann::json::value_t::discarded;
  }
  if (!j.is_object()) {
    return Status::unavailable(std::string(what) + ": the server's answer to " + subject +
                               " is not a JetStream API answer");
  }
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    const int code = e->value("code", 0);
    const int err_code = e->value("err_code", 0);
    std::string description = "JetStream API error";
    if (auto d = e->find("description"); d != e->end() && d->is_string()) description = *d;
    return js_api_error(code, err_code, description, what);
  }
  return j;
}

}  // namespace slip::nats
