// `slip kv` against a real nats-server: CRUD, CAS outcomes, names, exit
// codes, authentication and secrecy of credentials.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "slip/exit_codes.h"
#include "support/nats_server.h"
#include "support/process.h"

using nlohmann::json;
using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

std::vector<std::string> with_server(const NatsServer& server, std::vector<std::string> args) {
  args.push_back("-s");
  args.push_back(server.url());
  return args;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("kv: put, get, create, update, del, purge, keys and their exit codes" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args, const std::string& in = "") {
    return run_slip(with_server(server, std::move(args)), in);
  };
  REQUIRE(slip({"kv", "add", "cfg", "--history", "5"}).exit_code == ec::kOk);

  auto put = slip({"kv", "put", "cfg", "node.a", "hello"});
  CHECK(put.exit_code == ec::kOk);
  CHECK(put.out == "1\n");
  auto from_stdin = slip({"kv", "put", "cfg", "cert/edge.pem"}, std::string("bin\0ary\n", 7));
  CHECK(from_stdin.out == "2\n");

  auto get = slip({"kv", "get", "cfg", "node.a"});
  CHECK(get.exit_code == ec::kOk);
  CHECK(get.out == "hello");  // raw, no newline added
  CHECK(slip({"kv", "get", "cfg", "cert/edge.pem"}).out == std::string("bin\0ary\n", 7));
  json j = json::parse(slip({"kv", "get", "--json", "cfg", "node.a"}).out);
  CHECK(j["key"] == "node.a");
  CHECK(j["revision"] == 1);
  CHECK(j["value"] == "hello");
  CHECK(j["created"].get<std::string>().size() == 30);  // RFC 3339 with nanoseconds

  auto missing = slip({"kv", "get", "cfg", "nope"});
  CHECK(missing.exit_code == ec::kNegative);
  CHECK(missing.out.empty());

  auto exists = slip({"kv", "create", "cfg", "node.a", "x"});
  CHECK(exists.exit_code == ec::kNegative);
  CHECK(exists.err.find("already exists") != std::string::npos);
  CHECK(slip({"kv", "create", "cfg", "node.new", "x"}).exit_code == ec::kOk);

  auto cas = slip({"kv", "update", "cfg", "node.a", "v2", "--revision", "1"});
  CHECK(cas.exit_code == ec::kOk);
  const std::string rev = cas.out.substr(0, cas.out.size() - 1);
  auto lost = slip({"kv", "update", "cfg", "node.a", "v3", "--revision", "1"});
  CHECK(lost.exit_code == ec::kNegative);
  CHECK(lost.err.find("expected revision 1, latest is revision " + rev) != std::string::npos);
  CHECK(slip({"kv", "get", "cfg", "node.a"}).out == "v2");

  CHECK(slip({"kv", "del", "cfg", "node.a", "--revision", "1"}).exit_code == ec::kNegative);
  CHECK(slip({"kv", "del", "cfg", "node.a", "--revision", rev}).exit_code == ec::kOk);
  auto deleted = slip({"kv", "get", "cfg", "node.a"});
  CHECK(deleted.exit_code == ec::kNegative);
  CHECK(deleted.err.find("deleted") != std::string::npos);
  // A deleted key may be created again.
  CHECK(slip({"kv", "create", "cfg", "node.a", "back"}).exit_code == ec::kOk);

  auto history = lines(slip({"kv", "history", "cfg", "node.a"}).out);
  REQUIRE(history.size() == 4);
  CHECK(json::parse(history[2])["op"] == "DEL");
  CHECK(json::parse(history[3])["value"] == "back");

  CHECK(slip({"kv", "purge", "cfg", "node.new"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "keys", "cfg"}).out == "cert/edge.pem\nnode.a\n");
  CHECK(slip({"kv", "keys", "cfg", "node."}).out == "node.a\n");
  CHECK(slip({"kv", "keys", "cfg", "zzz"}).out.empty());

  // Adding it again is a no-op; with other settings it is a conflict.
  CHECK(slip({"kv", "add", "cfg", "--history", "5"}).exit_code == ec::kOk);
  auto differs = slip({"kv", "add", "cfg", "--history", "2"});
  CHECK(differs.exit_code == ec::kNegative);
  CHECK(differs.err.find("other settings") != std::string::npos);

  json status = json::parse(slip({"kv", "status", "--json", "cfg"}).out);
  CHECK(status["bucket"] == "cfg");
  CHECK(status["history"] == 5);
  auto ls = lines(slip({"kv", "ls", "--json"}).out);
  REQUIRE(ls.size() == 1);
  CHECK(json::parse(ls[0])["bucket"] == "cfg");
  CHECK(slip({"kv", "rm", "cfg"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "get", "cfg", "node.a"}).exit_code == ec::kNegative);
}

TEST_CASE("kv: keys beyond 1000 come back in one pass" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip(with_server(server, {"kv", "add", "many"})).exit_code == 0);
  // More keys than one JetStream ack window (1000) holds: a lister that
  // acked its way through, or stopped at 1000, would come back short.
  std::string script;
  for (int i = 0; i < 1100; ++i) {
    script += std::string(SLIP_BINARY) + " kv put -s " + server.url() + " many k." +
              std::to_string(i) + " v >/dev/null\n";
  }
  auto put = slip::test::run_process({"sh", "-e"}, script);
  REQUIRE(put.exit_code == 0);
  auto keys = lines(run_slip(with_server(server, {"kv", "keys", "many"})).out);
  CHECK(keys.size() == 1100);
}

TEST_CASE("kv: names are validated before anything is sent") {
  for (auto args : std::vector<std::vector<std::string>>{{"kv", "get", "bad.bucket", "k"},
                                                         {"kv", "get", "b", "bad key"},
                                                         {"kv", "put", "b", ".dot", "v"},
                                                         {"kv", "add", "b", "--history", "65"}}) {
    // Port 1 has no server: a name error must win over the connection error.
    args.insert(args.end(), {"-s", "nats://127.0.0.1:1"});
    auto run = run_slip(args);
    CAPTURE(args[2]);
    CHECK(run.exit_code == ec::kUsage);
    CHECK(run.err.rfind("slip: error: ", 0) == 0);
  }
}

TEST_CASE("kv: an unreachable server is exit 4, fast, and the password is never shown") {
  auto run = run_slip({"kv", "get", "b", "k", "-s", "nats://alice:Sup3rSecret@127.0.0.1:1"});
  CHECK(run.exit_code == ec::kUnavailable);
  CHECK(run.err.find("nats://alice:***@127.0.0.1:1") != std::string::npos);
  CHECK(run.err.find("Sup3rSecret") == std::string::npos);
  CHECK(run.out.find("Sup3rSecret") == std::string::npos);
}

TEST_CASE("kv: user/password and token servers; wrong credentials are exit 4 without echo") {
  {
    NatsServer server({.user = "ops", .password = "Pa55-word-xyz"});
    auto ok = run_slip(
        {"kv", "add", "b", "-s", server.url(), "--user", "ops", "--password", "Pa55-word-xyz"});
    CHECK(ok.exit_code == ec::kOk);
    auto bad = run_slip(
        {"kv", "add", "b", "-s", server.url(), "--user", "ops", "--password", "wrong-Secret-42"});
    CHECK(bad.exit_code == ec::kUnavailable);
    CHECK(bad.err.find("wrong-Secret-42") == std::string::npos);
    CHECK(bad.err.find("Pa55-word-xyz") == std::string::npos);
    CHECK(bad.err.find("uthoriz") != std::string::npos);  // "Authorization Violation"
  }
  {
    NatsServer server({.token = "t0ken-Value-123"});
    CHECK(
        run_slip({"kv", "add", "b", "-s", server.url(), "--token", "t0ken-Value-123"}).exit_code ==
        ec::kOk);
    auto bad = run_slip({"kv", "add", "b", "-s", server.url(), "--token", "bad-t0ken-987"});
    CHECK(bad.exit_code == ec::kUnavailable);
    CHECK(bad.err.find("bad-t0ken-987") == std::string::npos);
  }
}
