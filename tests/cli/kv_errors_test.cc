// Exit codes of requests the server refuses, on every server of the matrix:
// a write the bucket's own limits refuse fails the same way every time, so
// it is exit 2, never 4 ("unavailable", which scripts retry).
#include <doctest/doctest.h>
#include <nats/nats.h>

#include <string>

#include "slip/exit_codes.h"
#include "slip/kv.h"
#include "slip/nats.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

std::unique_ptr<slip::kv::Client> client_for(const NatsServer& server) {
  slip::nats::ConnectOptions o;
  o.servers = {server.url()};
  auto c = slip::nats::connect(o);
  REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  return std::move(*c);
}

// A raw JetStream API request, outside slip's library: the test builds
// streams slip has no command for.
std::string js_request(const NatsServer& server, const std::string& subject,
                       const std::string& body) {
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestString(&reply, nc, subject.c_str(), body.c_str(), 5000);
  std::string out = s == NATS_OK ? std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply))
                                 : std::string();
  natsMsg_Destroy(reply);
  natsConnection_Destroy(nc);
  REQUIRE(s == NATS_OK);
  return out;
}

// Publishes BODY-less to SUBJECT with one header, as a request: the ack.
std::string js_request_with_header(const NatsServer& server, const std::string& subject,
                                   const std::string& name, const std::string& value) {
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
  natsMsg* msg = nullptr;
  REQUIRE(natsMsg_Create(&msg, subject.c_str(), nullptr, "", 0) == NATS_OK);
  REQUIRE(natsMsgHeader_Set(msg, name.c_str(), value.c_str()) == NATS_OK);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestMsg(&reply, nc, msg, 5000);
  std::string out = s == NATS_OK ? std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply))
                                 : std::string();
  natsMsg_Destroy(reply);
  natsMsg_Destroy(msg);
  natsConnection_Destroy(nc);
  REQUIRE(s == NATS_OK);
  return out;
}

}  // namespace

TEST_CASE("kv errors: a value over the bucket's max value size is exit 2" * doctest::test_suite("nats")) {
  NatsServer server;
  auto client = client_for(server);
  slip::kv::BucketConfig config;
  config.name = "small";
  config.max_value_size = 16;
  REQUIRE(client->create_bucket(config).is_ok());
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
  const std::string created = js_request(
      server, "$JS.API.STREAM.CREATE.KV_cnt",
      R"({"name":"KV_cnt","subjects":["$KV.cnt.>"],"allow_msg_counter":true,)"
      R"("max_msgs_per_subject":1,"allow_direct":true,"storage":"memory","num_replicas":1})");
  REQUIRE_MESSAGE(created.find("\"error\"") == std::string::npos, created);
  // What a counter client writes: an increment; the server keeps the sum.
  const std::string incr = js_request_with_header(server, "$KV.cnt.hits", "Nats-Incr", "+5");
  REQUIRE_MESSAGE(incr.find("\"error\"") == std::string::npos, incr);
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
