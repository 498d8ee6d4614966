// Exit codes of requests the server refuses, on every server of the matrix:
// a write the bucket's own limits refuse fails the same way every time, so
// it is exit 2, never 4 ("unavailable", which scripts retry).
#include <doctest/doctest.h>

#include <string>

#include "slip/exit_codes.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/raw_stream.h"

using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;

TEST_CASE("kv errors: a value over the bucket's max value size is exit 2" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "small", "--max-value-size", "16", "-s", server.url()})
              .exit_code == ec::kOk);
  const std::string big(64, 'x');
  for (const char* verb : {"put", "create"}) {
    CAPTURE(verb);
    auto r = run_slip({"kv", verb, "small", "k", big, "-s", server.url()});
    CHECK(r.exit_code == ec::kUsage);
    CHECK_MESSAGE(r.err.find("maximum") != std::string::npos, r.err);
    CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  }
  // The bucket still takes what fits: the rejection was about the value.
  CHECK(run_slip({"kv", "put", "small", "k", "fits", "-s", server.url()}).exit_code == ec::kOk);
}

TEST_CASE("kv errors: a bucket at its size limit refuses writes with exit 2" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "full", "--max-bytes", "600", "-s", server.url()}).exit_code ==
          ec::kOk);
  const std::string value(100, 'v');
  int refused_with = -1;
  std::string err;
  for (int i = 0; i < 20 && refused_with < 0; ++i) {
    auto r = run_slip({"kv", "put", "full", "k" + std::to_string(i), value, "-s", server.url()});
    if (r.exit_code != ec::kOk) {
      refused_with = r.exit_code;
      err = r.err;
    }
  }
  CHECK(refused_with == ec::kUsage);
  CHECK_MESSAGE(err.find("maximum bytes exceeded") != std::string::npos, err);
}

TEST_CASE("kv errors: a counter stream is read as it is; slip refuses to write it, exit 2" * doctest::test_suite("nats")) {
  if (!slip::test::server_has(2, 12, "counter streams (allow_msg_counter)")) return;
  NatsServer server;
  // A stream slip has no command for, made through the raw API.
  slip::test::RawStream raw(server.url(), "cnt");
  const auto created = raw.api("$JS.API.STREAM.CREATE.KV_cnt",
                               {{"name", "KV_cnt"},
                                {"subjects", nlohmann::json::array({"$KV.cnt.>"})},
                                {"allow_msg_counter", true},
                                {"max_msgs_per_subject", 1},
                                {"allow_direct", true},
                                {"storage", "memory"},
                                {"num_replicas", 1}});
  REQUIRE_MESSAGE(!created.contains("error"), created.dump());
  // What a counter client writes: an increment; the server keeps the sum.
  raw.publish_with_headers("hits", "", {{"Nats-Incr", "+5"}});
  // Read as it is; every write refused before it is sent, naming the kind.
  auto got = run_slip({"kv", "get", "cnt", "hits", "-s", server.url()});
  CHECK(got.exit_code == ec::kOk);
  CHECK(got.out == R"({"val":"5"})");
  for (const std::vector<std::string>& write :
       std::vector<std::vector<std::string>>{{"put", "cnt", "k", "1"},
                                             {"create", "cnt", "k", "1"},
                                             {"del", "cnt", "hits"},
                                             {"purge", "cnt", "hits"}}) {
    std::vector<std::string> args{"kv"};
    args.insert(args.end(), write.begin(), write.end());
    args.insert(args.end(), {"-s", server.url()});
    CAPTURE(write[0]);
    auto r = run_slip(args);
    CHECK(r.exit_code == ec::kUsage);
    CHECK_MESSAGE(r.err.find("is a counter stream") != std::string::npos, r.err);
  }
  CHECK(run_slip({"kv", "get", "cnt", "hits", "-s", server.url()}).out == R"({"val":"5"})");
  auto status = run_slip({"kv", "status", "cnt", "--json", "-s", server.url()});
  CHECK(status.out.find("\"allow_msg_counter\":true") != std::string::npos);
}
