// Raw JetStream API requests ($JS.API.*), for what cnats 3.4 does not
// model: the stream settings of nats-server 2.11 and later (per-message
// TTLs, limit markers), the server's API level, and the stream's mirror
// and sources. Requests and answers are the server's JSON, as ADR-1
// (JetStream JSON API) describes them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "nats/connection.h"
#include "slip/status.h"

namespace slip::nats {

// Sends BODY to $JS.API.<API> and returns the parsed answer. An answer
// carrying {"error": {...}} becomes the matching Status (js_api_error);
// one that is not a JSON object (or is nested deeper than any real answer)
// is kUnavailable, naming WHAT.
Result<nlohmann::json> js_api_request(Connection& conn, std::string_view api,
                                      std::string_view body, std::string_view what);

// The Status for a JetStream API error answer: CODE is its HTTP-like code,
// ERR_CODE the JetStream error code, DESCRIPTION the server's words; the
// class comes from the one table in js_errors.h.
Status js_api_error(int code, int err_code, const std::string& description,
                    std::string_view what);

}  // namespace slip::nats
