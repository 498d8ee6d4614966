// The JetStream error table: every class reachable, the HTTP-like code as
// the fallback, and the stream limits within err_code 10077.
#include <doctest/doctest.h>

#include <set>

#include "nats/js_errors.h"
#include "slip/exit_codes.h"

using slip::nats::classify_js_error;
using slip::nats::JsErrorClass;
namespace ec = slip::exit_code;

namespace {

int exit_for(int http_code, int err_code, std::string_view description = "") {
  return slip::exit_code_for(
      slip::nats::js_error_status(classify_js_error(http_code, err_code, description), "x"));
}

}  // namespace

TEST_CASE("js errors: rejections of the request are 2, negative answers 1, unavailability 4") {
  CHECK(exit_for(400, 10054) == ec::kUsage);  // max value size
  CHECK(exit_for(0, 10054) == ec::kUsage);    // the same, from a publish acknowledgement
  CHECK(exit_for(0, 10169) == ec::kUsage);    // a counter stream refuses a plain put
  CHECK(exit_for(0, 10109) == ec::kUsage);    // sealed
  CHECK(exit_for(500, 10074) == ec::kUsage);  // replicas on a single server, though "500"
  CHECK(exit_for(0, 10071) == ec::kNegative);
  CHECK(exit_for(404, 10059) == ec::kNegative);
  CHECK(exit_for(500, 10009) == ec::kUnavailable);  // no leader
  CHECK(exit_for(0, 10009) == ec::kUnavailable);
  CHECK(exit_for(0, 10047) == ec::kUnavailable);  // storage
}

TEST_CASE("js errors: 10077 is a rejection for a bucket at its limits, else unavailable") {
  CHECK(exit_for(503, 10077, "maximum bytes exceeded") == ec::kUsage);
  CHECK(exit_for(0, 10077, "maximum messages per subject exceeded") == ec::kUsage);
  CHECK(exit_for(503, 10077, "write failed: input/output error") == ec::kUnavailable);
}

TEST_CASE("js errors: an unknown code follows its HTTP-like code, or is a rejection") {
  CHECK(exit_for(400, 19999) == ec::kUsage);
  CHECK(exit_for(413, 19999) == ec::kUsage);
  CHECK(exit_for(404, 19999) == ec::kNegative);
  CHECK(exit_for(503, 19999) == ec::kUnavailable);
  CHECK(exit_for(429, 19999) == ec::kUnavailable);
  CHECK(exit_for(403, 19999) == ec::kUnavailable);
  CHECK(exit_for(0, 19999) == ec::kUsage);
  CHECK(exit_for(0, 0) == ec::kUnavailable);
}

TEST_CASE("js errors: the table lists each code once, with the exit status of its class") {
  std::set<int> seen;
  for (const auto& rule : slip::nats::js_error_rules()) {
    CAPTURE(rule.err_code);
    CHECK(seen.insert(rule.err_code).second);
    CHECK(exit_for(0, rule.err_code) == slip::nats::js_error_exit_code(rule.cls));
  }
  CHECK(slip::nats::js_error_exit_code(JsErrorClass::kRejected) == ec::kUsage);
}
