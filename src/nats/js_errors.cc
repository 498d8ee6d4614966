#include "nats/js_errors.h"

#include <array>

#include "slip/exit_codes.h"

namespace slip::nats {

namespace {

using C = JsErrorClass;

// Every err_code whose class is not "rejected" must be here: cnats hands
// over err_code alone, and an unlisted code is read as a rejection. The
// rejections listed are the ones operators meet; the rest follow the rule.
constexpr std::array kRules{
    // Negative answers.
    JsErrorRule{10059, C::kNotFound, "stream (bucket) not found"},
    JsErrorRule{10014, C::kNotFound, "consumer not found"},
    JsErrorRule{10037, C::kNotFound, "no message found"},
    JsErrorRule{10068, C::kNotFound, "template not found"},
    JsErrorRule{10071, C::kConflict, "wrong last sequence (a revision mismatch)"},
    JsErrorRule{10164, C::kConflict, "wrong last sequence"},
    JsErrorRule{10070, C::kConflict, "wrong last message id"},
    JsErrorRule{10058, C::kConflict, "stream name already in use with another configuration"},
    // Rejections of the request itself: the same request fails again.
    JsErrorRule{10003, C::kRejected, "bad request"},
    JsErrorRule{10025, C::kRejected, "invalid JSON"},
    JsErrorRule{10054, C::kRejected, "message size exceeds the maximum (the bucket's max value size)"},
    JsErrorRule{10109, C::kRejected, "invalid operation on a sealed stream"},
    JsErrorRule{10074, C::kRejected, "replicas > 1 on a server that is not clustered"},
    JsErrorRule{10052, C::kRejected, "invalid stream configuration"},
    JsErrorRule{10053, C::kRejected, "stream limits exceeded"},
    JsErrorRule{10057, C::kRejected, "message delete failed (e.g. the stream denies deletes)"},
    JsErrorRule{10096, C::kRejected, "stream not valid"},
    JsErrorRule{10117, C::kRejected, "subject details would exceed the maximum allowed"},
    JsErrorRule{10010, C::kRejected, "clustering support required"},
    JsErrorRule{10006, C::kRejected, "JetStream not in clustered mode"},
    JsErrorRule{10036, C::kRejected, "not supported in clustered mode"},
    JsErrorRule{10002, C::kRejected, "resource limits exceeded for the account"},
    JsErrorRule{10165, C::kRejected, "invalid per-message TTL"},
    JsErrorRule{10166, C::kRejected, "per-message TTLs are disabled on the stream"},
    JsErrorRule{10168, C::kRejected, "message counters are disabled"},
    JsErrorRule{10169, C::kRejected, "a counter stream: the write carries no increment"},
    JsErrorRule{10170, C::kRejected, "a counter stream: the write has a payload"},
    JsErrorRule{10174, C::kRejected, "atomic publish is disabled"},
    JsErrorRule{10180, C::kRejected, "min last sequence not met"},
    JsErrorRule{10185, C::kRejected, "the server's JetStream API level is too low"},
    // Unavailable: the server cannot serve the request now.
    JsErrorRule{10004, C::kUnavailable, "incomplete results"},
    JsErrorRule{10007, C::kUnavailable, "JetStream cluster not assigned to this server"},
    JsErrorRule{10008, C::kUnavailable, "JetStream system temporarily unavailable"},
    JsErrorRule{10009, C::kUnavailable, "no leader (the cluster cannot handle the request)"},
    JsErrorRule{10012, C::kUnavailable, "consumer creation failed"},
    JsErrorRule{10023, C::kUnavailable, "insufficient resources"},
    JsErrorRule{10028, C::kUnavailable, "insufficient memory"},
    JsErrorRule{10029, C::kUnavailable, "mirror consumer setup failed"},
    JsErrorRule{10035, C::kUnavailable, "account not found"},
    JsErrorRule{10039, C::kUnavailable, "JetStream not enabled for the account"},
    JsErrorRule{10041, C::kUnavailable, "RAFT error"},
    JsErrorRule{10042, C::kUnavailable, "restore subscription failed"},
    JsErrorRule{10045, C::kUnavailable, "source consumer setup failed"},
    JsErrorRule{10047, C::kUnavailable, "insufficient storage"},
    JsErrorRule{10048, C::kUnavailable, "stream assignment failed"},
    JsErrorRule{10049, C::kUnavailable, "stream creation failed"},
    JsErrorRule{10050, C::kUnavailable, "stream deletion failed"},
    JsErrorRule{10051, C::kUnavailable, "stream error"},
    JsErrorRule{10062, C::kUnavailable, "restore failed"},
    JsErrorRule{10063, C::kUnavailable, "expected stream sequence does not match"},
    JsErrorRule{10064, C::kUnavailable, "snapshot failed"},
    JsErrorRule{10066, C::kUnavailable, "template creation failed"},
    JsErrorRule{10067, C::kUnavailable, "template deletion failed"},
    JsErrorRule{10069, C::kUnavailable, "stream update failed"},
    JsErrorRule{10072, C::kUnavailable, "temporary storage for a restore failed"},
    JsErrorRule{10075, C::kUnavailable, "peer remap failed"},
    JsErrorRule{10076, C::kUnavailable, "JetStream not enabled"},
    JsErrorRule{10077, C::kUnavailable,
                "storing the message failed (but a bucket at its size or message limit: rejected)"},
    JsErrorRule{10104, C::kUnavailable, "consumer store failed"},
    JsErrorRule{10110, C::kUnavailable, "purge failed"},
    JsErrorRule{10111, C::kUnavailable, "rollup failed"},
    JsErrorRule{10118, C::kUnavailable, "stream offline"},
    JsErrorRule{10119, C::kUnavailable, "consumer offline"},
    JsErrorRule{10158, C::kUnavailable, "a duplicate message id is in process"},
    JsErrorRule{10163, C::kUnavailable, "expected last sequence per subject temporarily unavailable"},
    JsErrorRule{10167, C::kUnavailable, "too many requests"},
    JsErrorRule{10194, C::kUnavailable, "stream offline"},
    JsErrorRule{10195, C::kUnavailable, "consumer offline"},
    JsErrorRule{10210, C::kUnavailable, "too many atomic publishes in flight"},
    JsErrorRule{10211, C::kUnavailable, "too many batch publishes in flight"},
};

// 10077 carries the store's own error: a bucket at its limits (discard new)
// refuses every further write the same way, unlike a failing disk.
bool is_stream_limit(std::string_view description) {
  for (std::string_view limit : {"maximum messages exceeded", "maximum bytes exceeded",
                                 "maximum messages per subject exceeded", "message too large"}) {
    if (description.find(limit) != std::string_view::npos) return true;
  }
  return false;
}

JsErrorClass by_http_code(int code) {
  if (code == 404) return C::kNotFound;
  // A permission denial is the operator's environment, as in slip(1).
  if (code >= 400 && code < 500 && code != 403 && code != 408 && code != 429) return C::kRejected;
  return C::kUnavailable;
}

}  // namespace

std::span<const JsErrorRule> js_error_rules() { return kRules; }

JsErrorClass classify_js_error(int http_code, int err_code, std::string_view description) {
  if (err_code == 10077 && is_stream_limit(description)) return C::kRejected;
  for (const JsErrorRule& rule : kRules) {
    if (rule.err_code == err_code) return rule.cls;
  }
  if (http_code != 0) return by_http_code(http_code);
  // The server answered with an error code slip does not know, and no
  // HTTP-like code came with it: every code that is not a rejection is
  // listed above, so this one is.
  return err_code != 0 ? C::kRejected : C::kUnavailable;
}

Status js_error_status(JsErrorClass cls, std::string message) {
  switch (cls) {
    case C::kNotFound: return Status::not_found(std::move(message));
    case C::kConflict: return Status::conflict(std::move(message));
    case C::kRejected: return Status::invalid_argument(std::move(message));
    case C::kUnavailable: break;
  }
  return Status::unavailable(std::move(message));
}

int js_error_exit_code(JsErrorClass cls) { return exit_code_for(js_error_status(cls, "")); }

std::string_view js_error_fallback_rule() {
  return "A JetStream API error, also in a publish acknowledgement, sets the exit status by its "
         "err_code, as listed. A code not listed is read by its HTTP-like code when the answer "
         "carries one (404: 1; 403, 408, 429 and 5xx: 4; other 4xx: 2), and is otherwise a "
         "rejection (2): every code that is not a rejection is listed. Without an answer from the "
         "server (no responders, a timeout, a lost connection, a permission violation) the exit "
         "status is 4.";
}

}  // namespace slip::nats
