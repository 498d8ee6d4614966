// What S3 answers become (the Status, hence the exit code), and the one
// retry wrapper. s3rver accepts any secret, so the signature-mismatch and
// session paths are covered here with answers as AWS words them.
#include <doctest/doctest.h>

#include <curl/curl.h>

#include "location/s3_client.h"
#include "slip/exit_codes.h"

namespace s3 = slip::location::s3;
using slip::StatusKind;

namespace {

s3::Config config() {
  s3::Config c;
  c.bucket = "b";
  c.scheme = "https";
  c.host = "s3.us-east-1.amazonaws.com";
  c.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "the-session-token"};
  return c;
}

s3::Response answer(long status, std::string body = "") {
  s3::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string error_xml(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>" + message +
         "</Message><RequestId>1</RequestId></Error>";
}

}  // namespace

TEST_CASE("s3 errors: 403 names the credential variables, exits 4, and shows no secret") {
  auto c = config();
  for (const char* code : {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}) {
    auto s = s3::error_status(answer(403, error_xml(code,
                                                    "The request signature we calculated "
                                                    "does not match")),
                              "put s3://b/k", c);
    CHECK(s.kind() == StatusKind::kUnavailable);
    CHECK(slip::exit_code_for(s) == 4);
    CHECK(s.message().find("access denied") != std::string::npos);
    CHECK(s.message().find(code) != std::string::npos);
    CHECK(s.message().find("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") != std::string::npos);
    CHECK(s.message().find(c.credentials.secret_key) == std::string::npos);
    CHECK(s.message().find(c.credentials.session_token) == std::string::npos);
  }
  auto skew = s3::error_status(answer(403, error_xml("RequestTimeTooSkewed", "too large")), "x", c);
  CHECK(skew.message().find("clock") != std::string::npos);
}

TEST_CASE("s3 errors: missing bucket, missing key, preconditions, region, server errors") {
  auto c = config();
  auto bucket = s3::error_status(answer(404, error_xml("NoSuchBucket", "no")), "list", c);
  CHECK(bucket.kind() == StatusKind::kInvalidArgument);
  CHECK(slip::exit_code_for(bucket) == 2);
  CHECK(bucket.message().find("bucket b does not exist") != std::string::npos);

  CHECK(s3::error_status(answer(404, error_xml("NoSuchKey", "no")), "get", c).kind() ==
        StatusKind::kNotFound);
  CHECK(s3::error_status(answer(404), "head", c).kind() == StatusKind::kNotFound);  // HEAD: no body
  CHECK(s3::error_status(answer(412, error_xml("PreconditionFailed", "At least one")), "put", c)
            .kind() == StatusKind::kConflict);
  CHECK(s3::error_status(answer(409, error_xml("ConditionalRequestConflict", "x")), "put", c)
            .kind() == StatusKind::kConflict);

  auto moved = answer(301, error_xml("PermanentRedirect", "use the endpoint"));
  moved.headers.emplace_back("x-amz-bucket-region", "eu-central-1");
  auto region = s3::error_status(moved, "list", c);
  CHECK(region.kind() == StatusKind::kInvalidArgument);
  CHECK(region.message().find("AWS_REGION=eu-central-1") != std::string::npos);

  auto server = s3::error_status(answer(503, error_xml("SlowDown", "Reduce your rate")), "put", c);
  CHECK(server.kind() == StatusKind::kUnavailable);
  CHECK(server.message().find("SlowDown: Reduce your rate") != std::string::npos);

  s3::Response refused;
  refused.transport_error = CURLE_COULDNT_CONNECT;
  refused.transport_message = "Failed to connect to 127.0.0.1 port 1: Connection refused";
  auto down = s3::error_status(refused, "put s3://b/k", c);
  CHECK(down.kind() == StatusKind::kUnavailable);
  CHECK(down.message().find("cannot reach https://s3.us-east-1.amazonaws.com") !=
        std::string::npos);
}

TEST_CASE("s3 retry: 5xx, 429 and connection errors are retried with backoff, others not") {
  CHECK(s3::is_transient(answer(500)));
  CHECK(s3::is_transient(answer(503)));
  CHECK(s3::is_transient(answer(429)));
  CHECK(s3::is_transient(answer(400, error_xml("RequestTimeout", "idle"))));
  CHECK_FALSE(s3::is_transient(answer(400, error_xml("InvalidArgument", "x"))));
  CHECK_FALSE(s3::is_transient(answer(403)));
  CHECK_FALSE(s3::is_transient(answer(404)));
  CHECK_FALSE(s3::is_transient(answer(412)));
  s3::Response timeout;
  timeout.transport_error = CURLE_OPERATION_TIMEDOUT;
  CHECK(s3::is_transient(timeout));
  s3::Response tls;
  tls.transport_error = CURLE_PEER_FAILED_VERIFICATION;
  CHECK_FALSE(s3::is_transient(tls));

  s3::RetryPolicy policy{4, std::chrono::milliseconds(1)};
  int calls = 0;
  int made = 0;
  auto r = s3::with_retry(
      policy, [&] { return ++calls < 3 ? answer(503) : answer(200, "ok"); }, &made);
  CHECK(r.status == 200);
  CHECK(calls == 3);
  CHECK(made == 3);

  calls = 0;
  r = s3::with_retry(
      policy, [&] { return ++calls, answer(500); }, &made);
  CHECK(r.status == 500);
  CHECK(calls == 4);  // gives up after the policy's attempts

  calls = 0;
  r = s3::with_retry(
      policy, [&] { return ++calls, answer(404); }, &made);
  CHECK(calls == 1);
  CHECK(made == 1);

  // A stop between attempts ends the retries as an interruption, not as
  // the transient failure it was retrying.
  calls = 0;
  r = s3::with_retry(
      policy, [&] { return ++calls, answer(503); }, &made, [&] { return calls == 2; });
  CHECK(calls == 2);
  CHECK(r.transport_error == CURLE_ABORTED_BY_CALLBACK);
  s3::Config config;
  CHECK(s3::error_status(r, "put k", config).kind() == slip::StatusKind::kInterrupted);

  // The delay doubles: 3 waits of 20, 40, 80 ms (each jittered to +-50%).
  calls = 0;
  auto start = std::chrono::steady_clock::now();
  s3::with_retry({4, std::chrono::milliseconds(20)}, [&] { return ++calls, answer(502); });
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(70));  // at least 10 + 20 + 40
}
