// What an operator sees of a running mirror: metrics, JSON logs, the
// progress bar, the fold's origin check, and the retention guard.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "slip/exit_codes.h"
#include "slip/snapshot.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/metrics.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::BackgroundProcess;
using slip::test::NatsServer;
using slip::test::put_value;
using slip::test::read_file;
using slip::test::run_slip;
using slip::test::wait_until;
using slip::test::metric_value;
namespace ec = slip::exit_code;
using namespace std::chrono_literals;

namespace {

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), "not JSON: " << line);
    out.push_back(std::move(j));
  }
  return out;
}

// A log fold's keys, read without taking the writer's lock (the mirror
// may be running).
std::map<std::string, std::string> replayed_fold(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return {};  // not created yet
  auto state = slip::snapshot::replay(path);
  REQUIRE_MESSAGE(state.is_ok(), state.status().to_string());
  std::map<std::string, std::string> m;
  for (const auto& [key, live] : state->entries) m.emplace(key, live.value);
  return m;
}

}  // namespace

TEST_CASE("mirror: --metrics serves the cursor, the head and the counters while running" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 5; ++i) put_value(server, "cfg", "k" + std::to_string(i), "v");
  slip::test::TempDir dir;
  const std::string log = dir.file("mirror.out");
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "cfg", "--to", dir.file("f.snap"), "--metrics",
                            "127.0.0.1:0", "-s", server.url()},
                           log);
  const int port = slip::test::metrics_port(log + ".err", 10s);
  REQUIRE(port != 0);
  put_value(server, "cfg", "k9", "late");  // revision 6
  std::string page;
  REQUIRE(wait_until(
      [&] {
        auto r = slip::test::http_get(port, "/metrics");
        page = r.body;
        return r.status == 200 && metric_value(page, "slip_mirror_cursor_revision") == 6;
      },
      10s));
  CHECK(metric_value(page, "slip_mirror_stream_up") == 1);
  CHECK(metric_value(page, "slip_mirror_stream_last_revision") == 6);
  CHECK(metric_value(page, "slip_mirror_lag_revisions") == 0);
  CHECK(metric_value(page, "slip_mirror_keys") == 6);
  CHECK(metric_value(page, "slip_mirror_updates_applied_total") == 6);
  CHECK(metric_value(page, "slip_mirror_caught_up") == 1);
  CHECK(metric_value(page, "slip_mirror_resyncs_total") == 0);
  CHECK(metric_value(page, "slip_mirror_store_failures_total") == 0);
  CHECK(metric_value(page, "slip_mirror_last_commit_timestamp_seconds") > 1.7e9);
  CHECK(page.find("# TYPE slip_mirror_updates_applied_total counter") != std::string::npos);
  CHECK(slip::test::http_get(port, "/other").status == 404);
  CHECK(mirror.stop(SIGTERM) == 0);

  SUBCASE("a bad or busy address is refused before anything is mirrored") {
    auto r = run_slip(
        {"mirror", "cfg", "--to", dir.file("g.snap"), "--metrics", "nonsense", "-s", server.url()});
    CHECK(r.exit_code == ec::kUsage);
    CHECK(r.err.find("bad listen address 'nonsense'") != std::string::npos);
  }
}

TEST_CASE("mirror: --log-format json writes one object per event, with the counts" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 7; ++i) put_value(server, "cfg", "k" + std::to_string(i), "v");
  slip::test::TempDir dir;
  auto r = run_slip({"mirror", "cfg", "--to", dir.file("f.snap"), "--once", "--log-format", "json",
                     "-s", server.url()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto events = json_lines(r.err);
  REQUIRE(events.size() >= 3);
  std::vector<std::string> names;
  for (const auto& e : events) {
    names.push_back(e["event"]);
    CHECK(e["bucket"] == "cfg");
    CHECK(e["time"].get<std::string>().back() == 'Z');
    CHECK(e.contains("msg"));
  }
  CHECK(names.front() == "start");
  CHECK(std::find(names.begin(), names.end(), "caught_up") != names.end());
  CHECK(names.back() == "stop");
  CHECK(events.back()["applied"] == 7);
  CHECK(events.back()["keys"] == 7);
  CHECK(events.back()["cursor"] == 7);
  CHECK(events.back()["level"] == "info");
}

TEST_CASE("mirror: the progress line is drawn on a terminal and never into a pipe" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 3; ++i) put_value(server, "cfg", "k" + std::to_string(i), "v");
  slip::test::TempDir dir;
  // script(1) gives the mirror a pseudo-terminal for stdin/stdout/stderr.
  const std::string cmd = std::string(SLIP_BINARY) + " mirror cfg --once --to " +
                          dir.file("tty.snap") + " -s " + server.url();
  auto tty = slip::test::run_process({"script", "-qec", cmd, "/dev/null"});
  REQUIRE_MESSAGE(tty.exit_code == 0, tty.out << tty.err);
  CHECK(tty.out.find("slip: mirror: catching up  [") != std::string::npos);
  CHECK(tty.out.find("0 / 3") != std::string::npos);
  auto quiet = slip::test::run_process({"script", "-qec", cmd + " --no-progress", "/dev/null"});
  CHECK(quiet.out.find("catching up") == std::string::npos);
  auto piped =
      run_slip({"mirror", "cfg", "--once", "--to", dir.file("pipe.snap"), "-s", server.url()});
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.err.find("catching up") == std::string::npos);
  CHECK(piped.err.find('\r') == std::string::npos);
}

TEST_CASE("mirror: a fold refuses another bucket or another scope" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  REQUIRE(run_slip({"kv", "add", "other", "-s", server.url()}).exit_code == 0);
  put_value(server, "cfg", "a.1", "x");
  slip::test::TempDir dir;
  for (const std::string backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string fold = dir.file("fold-" + backend);
    auto first = run_slip({"mirror", "cfg", "--to", fold, "--backend", backend, "--prefix", "a.",
                           "--prefix", "b.", "--once", "-s", server.url()});
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    // The same scope in another order is the same scope.
    auto again = run_slip({"mirror", "cfg", "--to", fold, "--prefix", "b.", "--prefix", "a.",
                           "--once", "-s", server.url()});
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    auto wider = run_slip({"mirror", "cfg", "--to", fold, "--once", "-s", server.url()});
    CHECK(wider.exit_code == ec::kUsage);
    CHECK(wider.err.find("the fold is a fold of bucket cfg, prefixes 'a.' 'b.'") !=
          std::string::npos);
    auto elsewhere = run_slip({"mirror", "other", "--to", fold, "--prefix", "a.", "--prefix", "b.",
                               "--once", "-s", server.url()});
    CHECK(elsewhere.exit_code == ec::kUsage);
    CHECK(elsewhere.err.find("not of bucket other") != std::string::npos);
  }
}

TEST_CASE("mirror: history evicted under a running mirror leads to a resync, not divergence" * doctest::test_suite("nats")) {
  NatsServer server;
  // Revisions expire after a second: KV buckets refuse writes past
  // max_bytes, so age is how retention evicts here.
  REQUIRE(run_slip({"kv", "add", "cfg", "--max-age", "1s", "-s", server.url()}).exit_code == 0);
  put_value(server, "cfg", "victim", "here");  // revision 1
  slip::test::TempDir dir;
  const std::string fold = dir.file("f.snap");
  const std::string log = dir.file("mirror.out");
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "cfg", "--to", fold, "-s", server.url()}, log);
  REQUIRE(wait_until([&] { return replayed_fold(fold).count("victim") == 1; }, 10s));
  // Freeze the mirror, delete the victim, and let the delete marker age
  // out of the bucket before the mirror can see it.
  REQUIRE(::kill(mirror.pid(), SIGSTOP) == 0);
  // Enough filler that the socket buffers fill and flow control holds the
  // server back: the marker after it stays undelivered until it expires.
  const std::string filler(200 << 10, 'f');
  for (int i = 0; i < 60; ++i)
    REQUIRE(run_slip({"kv", "put", "cfg", "fill." + std::to_string(i), "-s", server.url()}, filler)
                .exit_code == 0);
  REQUIRE(run_slip({"kv", "del", "cfg", "victim", "-s", server.url()}).exit_code == 0);
  REQUIRE(wait_until(
      [&] {
        auto status = run_slip({"kv", "status", "cfg", "--json", "-s", server.url()});
        return status.exit_code == 0 &&
               nlohmann::json::parse(status.out)["values"].get<std::uint64_t>() == 0;
      },
      10s));
  put_value(server, "cfg", "after", "eviction");  // revision 3: delivery jumps over 2
  REQUIRE(::kill(mirror.pid(), SIGCONT) == 0);
  REQUIRE(wait_until([&] { return replayed_fold(fold).count("after") == 1; }, 10s));
  CHECK(mirror.stop(SIGTERM) == 0);
  auto m = replayed_fold(fold);
  CHECK(m.count("victim") == 0);
  const std::string err = read_file(log + ".err");
  CHECK_MESSAGE(err.find("retention evicted revisions after ") != std::string::npos, err);
  CHECK(err.find("resync:") != std::string::npos);
}

TEST_CASE("mirror: a running mirror of an empty bucket says it is caught up" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "empty", "-s", server.url()}).exit_code == 0);
  slip::test::TempDir dir;
  const std::string log = dir.file("mirror.out");
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "empty", "--to", dir.file("f.snap"),
                            "--metrics", "127.0.0.1:0", "-s", server.url()},
                           log);
  const int port = slip::test::metrics_port(log + ".err", 10s);
  REQUIRE(port != 0);
  // Nothing to commit, ever: the metric and the event still come.
  CHECK(wait_until([&] { return slip::test::metric_now(port, "slip_mirror_caught_up") == 1; }, 10s));
  CHECK(wait_until([&] { return read_file(log + ".err").find("caught up") != std::string::npos; },
                   10s));
}
