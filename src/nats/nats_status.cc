#include "nats/nats_status.h"

#include <string>

#include "nats/js_errors.h"

namespace slip::nats {

Status to_status(natsStatus s, std::string_view what, jsErrCode jerr) {
  if (s == NATS_OK) return Status::ok();
  std::string detail = natsStatus_GetText(s);
  // nats_GetLastError carries the server's own words ("wrong last sequence:
  // 5"); it never contains credentials.
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    detail = last;
    // cnats prefixes its source location, "(conn.c:2088): ": not for operators.
    if (detail.size() > 2 && detail[0] == '(') {
      auto close = detail.find("): ");
      if (close != std::string::npos && detail.find(".c:") < close) detail.erase(0, close + 3);
    }
  }
  std::string msg = std::string(what) + ": " + detail;
  if (jerr != 0) {
    // The server answered and refused: its err_code says whether to retry.
    const JsErrorClass cls = classify_js_error(0, static_cast<int>(jerr), detail);
    // 10164: the same, as newer servers word it.
    if (jerr == JSStreamWrongLastSequenceErr || static_cast<int>(jerr) == 10164) {
      return Status::conflict(std::string(what) + ": revision mismatch (" + detail + ")");
    }
    return js_error_status(cls, msg);
  }
  switch (s) {
    case NATS_NOT_FOUND: return Status::not_found(msg);
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NO_RESPONDERS:
    case NATS_MISSED_HEARTBEAT:
    case NATS_SSL_ERROR:
    case NATS_IO_ERROR:
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_SECURE_CONNECTION_WANTED: return Status::unavailable(msg);
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD: return Status::invalid_argument(msg);
    default: return Status::unavailable(msg);
  }
}

}  // namespace slip::nats
