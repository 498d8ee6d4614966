// The s3rver fixture itself: up with its bucket, gone after destruction.
#include <doctest/doctest.h>

#include <algorithm>

#include "support/nats_server.h"
#include "support/s3_server.h"

TEST_CASE("s3 server fixture: answers with its bucket, and its port is closed afterwards") {
  int port = 0;
  {
    slip::test::S3Server s3("fixture-bucket");
    port = s3.port();
    CHECK(port > 0);
    CHECK(s3.running());
    CHECK(slip::test::http_get(port, "/fixture-bucket").status == 200);
    CHECK(slip::test::http_get(port, "/other-bucket").status == 404);
    CHECK(s3.endpoint() == "http://127.0.0.1:" + std::to_string(port));
    CHECK(s3.url("a/b") == "s3://fixture-bucket/a/b");
    auto env = s3.env();
    CHECK(std::find(env.begin(), env.end(), "AWS_ENDPOINT_URL=" + s3.endpoint()) != env.end());
    s3.kill9();
    CHECK_FALSE(s3.running());
    CHECK(slip::test::http_get(port, "/fixture-bucket").status == 0);
  }
  slip::test::S3Server again;  // a second one starts cleanly on its own port
  CHECK(slip::test::http_get(again.port(), "/slip-test").status == 200);
}
