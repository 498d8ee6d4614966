// `slip kv` against a real nats-server: CRUD, CAS outcomes, names, exit
// codes, authentication and secrecy of credentials.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "slip/exit_codes.h"
#include "support/background.h"
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

// ---- TTLs (nats-server 2.11+): refused on older servers, naming the version needed ----

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The refusal of a TTL feature by a server before 2.11.
std::string too_old(const std::string& what) {
  return what + " need nats-server 2.11 or later; this server is older";
}

}  // namespace

TEST_CASE("kv: add --marker-ttl, and status shows the TTL settings" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    return run_slip(with_server(server, std::move(args)));
  };
  // Every server: a bucket without markers says so, to the nanosecond.
  REQUIRE(slip({"kv", "add", "plain", "--max-age", "90s"}).exit_code == ec::kOk);
  json plain = json::parse(slip({"kv", "status", "--json", "plain"}).out);
  CHECK(plain["max_age_seconds"] == 90);
  CHECK(plain["max_age_ns"] == 90'000'000'000LL);
  CHECK(plain["allow_msg_ttl"] == false);
  CHECK(plain["marker_ttl_ns"] == 0);
  auto text = slip({"kv", "status", "plain"});
  CHECK(has(text.out, "max age:          1m30s (90000000000 ns)\n"));
  CHECK(has(text.out, "per-message TTLs: not allowed\n"));
  CHECK(has(text.out, "marker TTL:       none"));

  auto sub_second = slip({"kv", "add", "m", "--marker-ttl", "1500ms"});
  CHECK(sub_second.exit_code == ec::kUsage);
  CHECK(has(sub_second.err, "--marker-ttl"));

  auto add = slip({"kv", "add", "m", "--marker-ttl", "1s", "--max-age", "2s"});
  if (!slip::test::nats_server_version().at_least(2, 11)) {
    CHECK(add.exit_code == ec::kUsage);
    CHECK(has(add.err, too_old("limit markers")));
    CHECK(add.err.find('\n') == add.err.size() - 1);  // one line
    // Refused before anything was created.
    CHECK(slip({"kv", "status", "m"}).exit_code == ec::kNegative);
    return;
  }
  CHECK(add.exit_code == ec::kOk);
  json m = json::parse(slip({"kv", "status", "--json", "m"}).out);
  CHECK(m["marker_ttl_ns"] == 1'000'000'000LL);
  CHECK(m["allow_msg_ttl"] == true);
  CHECK(m["max_age_ns"] == 2'000'000'000LL);
  CHECK(m["max_age_seconds"] == 2);
  CHECK(m["history"] == 1);
  text = slip({"kv", "status", "m"});
  CHECK(has(text.out, "max age:          2s (2000000000 ns)\n"));
  CHECK(has(text.out, "per-message TTLs: allowed\n"));
  CHECK(has(text.out, "marker TTL:       1s (1000000000 ns)"));

  // It is still a KV bucket: writes, reads, CAS.
  CHECK(slip({"kv", "put", "m", "k", "v"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "get", "m", "k"}).out == "v");
  CHECK(slip({"kv", "create", "m", "k", "w"}).exit_code == ec::kNegative);

  // The same settings again: nothing to do; others, markers or not: a conflict.
  CHECK(slip({"kv", "add", "m", "--marker-ttl", "1s", "--max-age", "2s"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "add", "m", "--max-age", "2s"}).exit_code == ec::kNegative);
  CHECK(slip({"kv", "add", "m", "--marker-ttl", "2s", "--max-age", "2s"}).exit_code ==
        ec::kNegative);
  CHECK(slip({"kv", "add", "plain", "--max-age", "90s", "--marker-ttl", "1s"}).exit_code ==
        ec::kNegative);
}

TEST_CASE("kv: create --ttl expires the value" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    return run_slip(with_server(server, std::move(args)));
  };
  REQUIRE(slip({"kv", "add", "plain"}).exit_code == ec::kOk);
  auto bad = slip({"kv", "create", "plain", "k", "v", "--ttl", "0s"});
  CHECK(bad.exit_code == ec::kUsage);
  CHECK(has(bad.err, "--ttl"));

  auto refused = slip({"kv", "create", "plain", "k", "v", "--ttl", "2s"});
  CHECK(refused.exit_code == ec::kUsage);
  CHECK(refused.err.find('\n') == refused.err.size() - 1);
  // Nothing was written: a value without its TTL would never expire.
  CHECK(slip({"kv", "get", "plain", "k"}).exit_code == ec::kNegative);
  if (!slip::test::nats_server_version().at_least(2, 11)) {
    CHECK(has(refused.err, too_old("per-message TTLs")));
    return;
  }
  CHECK(has(refused.err, "bucket plain does not allow per-message TTLs (create it with "
                         "--marker-ttl)"));

  // The marker TTL no longer than the message's (2.15.1 misbehaves otherwise).
  REQUIRE(slip({"kv", "add", "t", "--marker-ttl", "1s", "--history", "3"}).exit_code == ec::kOk);
  auto created = slip({"kv", "create", "t", "k", "v", "--ttl", "2s"});
  CHECK(created.exit_code == ec::kOk);
  CHECK(created.out == "1\n");
  CHECK(slip({"kv", "put", "t", "other", "stays"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "create", "t", "k", "again", "--ttl", "2s"}).exit_code == ec::kNegative);
  CHECK(slip::test::wait_until([&] { return slip({"kv", "get", "t", "k"}).exit_code == 1; },
                               std::chrono::seconds(10)));
  CHECK(slip({"kv", "get", "t", "other"}).out == "stays");
  // Expired, it may be created again.
  CHECK(slip({"kv", "create", "t", "k", "new"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "get", "t", "k"}).out == "new");

  // With history, the server would raise a TTL below the marker TTL to it.
  REQUIRE(slip({"kv", "add", "floor", "--marker-ttl", "5s", "--history", "3"}).exit_code ==
          ec::kOk);
  auto shorter = slip({"kv", "create", "floor", "k", "v", "--ttl", "2s"});
  CHECK(shorter.exit_code == ec::kUsage);
  CHECK(has(shorter.err, "at least"));
  CHECK(slip({"kv", "get", "floor", "k"}).exit_code == ec::kNegative);
  CHECK(slip({"kv", "create", "floor", "k", "v", "--ttl", "5s"}).exit_code == ec::kOk);
}

TEST_CASE("kv: purge --ttl writes a marker that expires" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    return run_slip(with_server(server, std::move(args)));
  };
  const bool new_server = slip::test::nats_server_version().at_least(2, 11);
  if (!new_server) {
    REQUIRE(slip({"kv", "add", "p", "--history", "5"}).exit_code == ec::kOk);
    CHECK(slip({"kv", "put", "p", "k", "v1"}).exit_code == ec::kOk);
    auto refused = slip({"kv", "purge", "p", "k", "--ttl", "2s"});
    CHECK(refused.exit_code == ec::kUsage);
    CHECK(has(refused.err, too_old("per-message TTLs")));
    // Nothing was purged.
    CHECK(slip({"kv", "get", "p", "k"}).out == "v1");
    return;
  }
  REQUIRE(slip({"kv", "add", "p", "--history", "5", "--marker-ttl", "1s"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "put", "p", "k", "v1"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "put", "p", "k", "v2"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "put", "p", "other", "stays"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "purge", "p", "k", "--ttl", "2s"}).exit_code == ec::kOk);
  auto history = lines(slip({"kv", "history", "p", "k"}).out);
  REQUIRE(history.size() == 1);
  CHECK(json::parse(history[0])["op"] == "PURGE");
  // Then the marker goes too: the key has no history left.
  CHECK(slip::test::wait_until(
      [&] { return slip({"kv", "history", "p", "k"}).exit_code == ec::kNegative; },
      std::chrono::seconds(10)));
  json status = json::parse(slip({"kv", "status", "--json", "p"}).out);
  CHECK(status["values"] == 1);  // "other" only
  CHECK(slip({"kv", "get", "p", "other"}).out == "stays");

  // On a bucket without per-message TTLs, the server refuses the marker.
  REQUIRE(slip({"kv", "add", "plain", "--history", "5"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "put", "plain", "k", "v1"}).exit_code == ec::kOk);
  auto refused = slip({"kv", "purge", "plain", "k", "--ttl", "2s"});
  CHECK(refused.exit_code == ec::kUsage);
  CHECK(has(refused.err, "bucket plain does not allow per-message TTLs"));
  CHECK(slip({"kv", "get", "plain", "k"}).out == "v1");
}

TEST_CASE("kv: put --ttl is refused, and nothing is written" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    return run_slip(with_server(server, std::move(args)));
  };
  REQUIRE(slip({"kv", "add", "b", "--history", "5"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "put", "b", "k", "old"}).exit_code == ec::kOk);
  auto refused = slip({"kv", "put", "b", "k", "new", "--ttl", "30s"});
  CHECK(refused.exit_code == ec::kUsage);
  CHECK(has(refused.err, "older revision"));
  CHECK(has(refused.err, "kv create --ttl"));
  CHECK(refused.err.find('\n') == refused.err.size() - 1);
  CHECK(slip({"kv", "get", "b", "k"}).out == "old");
  CHECK(lines(slip({"kv", "history", "b", "k"}).out).size() == 1);
}

TEST_CASE("kv: names are validated before anything is sent") {
  for (auto args : std::vector<std::vector<std::string>>{{"kv", "get", "bad.bucket", "k"},
                                                         {"kv", "get", "b", "bad key"},
                                                         {"kv", "put", "b", ".dot", "v"},
                                                         {"kv", "add", "b", "--history", "65"},
                                                         {"kv", "put", "b", "k", "v", "--ttl", "1s"},
                                                         {"kv", "add", "b", "--marker-ttl", "x"},
                                                         {"kv", "add", "b", "--max-value-size", "1e300"},
                                                         {"kv", "add", "b", "--max-bytes", "nan"}}) {
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

TEST_CASE("kv: add takes natscli's spellings, and status --json shows every setting" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    return run_slip(with_server(server, std::move(args)));
  };
  const std::vector<std::string> add = {"kv", "add", "o", "--ttl", "90s", "--max-bucket-size",
                                        "1M", "--max-value-size", "1K", "--description",
                                        "edge routes"};
  REQUIRE(slip(add).exit_code == ec::kOk);
  json st = json::parse(slip({"kv", "status", "--json", "o"}).out);
  CHECK(st["max_age_seconds"] == 90);
  CHECK(st["max_bytes"] == 1048576);
  CHECK(st["max_value_size"] == 1024);
  CHECK(st["description"] == "edge routes");
  CHECK(st["compression"] == "none");
  CHECK(st["created"].get<std::string>().size() >= 20);  // RFC 3339
  CHECK(st["mirror"] == "");
  CHECK(st["sources"].empty());
  CHECK(st["allow_msg_counter"] == false);
  auto text = slip({"kv", "status", "o"}).out;
  CHECK(has(text, "description:      edge routes\n"));
  CHECK(has(text, "max value size:   1024\n"));
  // The same again is nothing to do; another value size is other settings.
  CHECK(slip(add).exit_code == ec::kOk);
  CHECK(slip({"kv", "add", "o", "--ttl", "90s", "--max-bucket-size", "1M", "--max-value-size",
              "2K"})
            .exit_code == ec::kNegative);
  // The value size is enforced: a larger value is a rejection, exit 2.
  CHECK(slip({"kv", "put", "o", "k", std::string(2000, 'x')}).exit_code == ec::kUsage);
  CHECK(slip({"kv", "add", "z", "--max-value-size", "0"}).exit_code == ec::kUsage);
}
