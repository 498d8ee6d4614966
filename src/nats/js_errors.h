// How slip reads a JetStream API error: the one table behind the exit
// status of every request and publish (slip(1), "JETSTREAM ERRORS").
//
// The question a script asks of an error is whether to retry. A rejection
// of the request itself (a bad request, the wrong kind of stream, a limit of
// the bucket such as its maximum value size) fails the same way every time:
// exit 2. Being unavailable (no leader, storage, a timeout) may pass: exit 4.
// A negative answer (not found, a revision mismatch) is exit 1.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "slip/status.h"

namespace slip::nats {

enum class JsErrorClass {
  kNotFound,     // exit 1
  kConflict,     // exit 1: the revision or sequence the request expected is gone
  kRejected,     // exit 2: the request is refused as it is; retrying cannot help
  kUnavailable,  // exit 4: the server cannot serve it now
};

struct JsErrorRule {
  int err_code;
  JsErrorClass cls;
  std::string_view meaning;  // for slip(1)
};

// The err_codes slip knows by name (nats-server's errors.json), each with
// its class. Codes not listed are classified by their HTTP-like code.
std::span<const JsErrorRule> js_error_rules();

// HTTP_CODE is the API error's "code", 0 when the client library did not
// pass it on (cnats keeps only err_code for publishes and its own calls):
// an error the server answered with is then a rejection unless the table
// says otherwise. DESCRIPTION tells the stream's own limits apart from a
// storage failure within err_code 10077 ("maximum bytes exceeded").
JsErrorClass classify_js_error(int http_code, int err_code, std::string_view description);

Status js_error_status(JsErrorClass cls, std::string message);

// The exit status of a class, and the rule for codes not in the table:
// slip(1)'s "JETSTREAM ERRORS" table is made from these and the rules.
int js_error_exit_code(JsErrorClass cls);
std::string_view js_error_fallback_rule();

}  // namespace slip::nats
