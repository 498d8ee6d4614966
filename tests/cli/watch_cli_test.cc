// `slip watch` against real nats-server processes: state-sync, resume,
// cursor expiry, several prefixes, --exec, and server restarts and node
// loss with no gap and no duplicate.
#include <doctest/doctest.h>
#include <nats/nats.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "nats/handles.h"
#include "slip/exit_codes.h"
#include "support/background.h"
#include "support/files.h"
#include "support/nats_server.h"
#include "support/process.h"

using nlohmann::json;
using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;
using namespace std::chrono_literals;

namespace {

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// Applies watch output to a map, as a fold would.
std::map<std::string, std::string> fold(const std::vector<json>& updates) {
  std::map<std::string, std::string> state;
  for (const json& u : updates) {
    if (u["op"] == "PUT") {
      state[u["key"]] = u["value"];
    } else {
      state.erase(u["key"].get<std::string>());
    }
  }
  return state;
}

class Bucket {
 public:
  Bucket(std::string urls, std::string name, std::vector<std::string> add_flags = {})
      : urls_(std::move(urls)), name_(std::move(name)) {
    std::vector<std::string> args{"kv", "add", name_, "-s", urls_};
    args.insert(args.end(), add_flags.begin(), add_flags.end());
    auto r = run_slip(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  std::uint64_t put(const std::string& key, const std::string& value) {
    auto r = run_slip({"kv", "put", name_, key, value, "-s", urls_});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return std::stoull(r.out);
  }
  void del(const std::string& key) {
    REQUIRE(run_slip({"kv", "del", name_, key, "-s", urls_}).exit_code == 0);
  }
  void purge(const std::string& key) {
    REQUIRE(run_slip({"kv", "purge", name_, key, "-s", urls_}).exit_code == 0);
  }
  slip::test::ProcessResult watch(std::vector<std::string> args) {
    std::vector<std::string> all{"watch", name_, "-s", urls_};
    all.insert(all.end(), args.begin(), args.end());
    return run_slip(all);
  }
  const std::string& urls() const { return urls_; }
  const std::string& name() const { return name_; }

 private:
  std::string urls_;
  std::string name_;
};

std::uint64_t read_cursor(const std::string& path) {
  return std::stoull(slip::test::read_file(path));
}

// Checks that the revisions in UPDATES are strictly increasing and, when
// CONTIGUOUS, exactly FIRST..LAST with no gap.
void check_no_gap_no_duplicate(const std::vector<json>& updates, std::uint64_t first,
                               std::uint64_t last) {
  REQUIRE(updates.size() == last - first + 1);
  for (std::size_t i = 0; i < updates.size(); ++i) {
    CAPTURE(i);
    CHECK(updates[i]["revision"] == first + i);
  }
}

// Writes N keys (key.0 .. key.N-1, 100-byte values) into the existing
// bucket BUCKET with cnats' async publish: one `slip kv put` per key would
// take minutes for a big bucket.
void fill_bucket(const std::string& url, const std::string& bucket, int n) {
  natsConnection* nc_raw = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc_raw, url.c_str()) == NATS_OK);
  slip::nats::ConnectionPtr nc(nc_raw);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;
  // Runs on cnats' thread; read only after every ack has been handled.
  int failures = 0;
  jo.PublishAsync.ErrHandler = [](jsCtx*, jsPubAckErr*, void* closure) {
    ++*static_cast<int*>(closure);
  };
  jo.PublishAsync.ErrHandlerClosure = &failures;
  jsCtx* js_raw = nullptr;
  REQUIRE(natsConnection_JetStream(&js_raw, nc.get(), &jo) == NATS_OK);
  slip::nats::JsCtxPtr js(js_raw);
  const std::string value(100, 'v');
  natsStatus s = NATS_OK;
  for (int i = 0; i < n && s == NATS_OK; ++i) {
    const std::string subject = "$KV." + bucket + ".key." + std::to_string(i);
    // A stall (MaxPending acks outstanding) is a timeout: retry.
    while ((s = js_PublishAsync(js.get(), subject.c_str(), value.data(),
                                static_cast<int>(value.size()), nullptr)) == NATS_TIMEOUT) {
    }
  }
  REQUIRE_MESSAGE(s == NATS_OK, natsStatus_GetText(s));
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 30000;
  REQUIRE(js_PublishAsyncComplete(js.get(), &po) == NATS_OK);
  REQUIRE(failures == 0);
}

// Exit codes seen, with how often: -1 still running at the limit, 128+N
// killed by signal N (139 SIGSEGV, 134 SIGABRT).
using Outcomes = std::map<int, int>;

Outcomes all_exit(int code, int runs) { return Outcomes{{code, runs}}; }

std::string describe(const Outcomes& outcomes) {
  std::string text;
  for (const auto& [code, n] : outcomes) {
    text += (code < 0 ? std::string("hang") : "exit " + std::to_string(code)) + " x" +
            std::to_string(n) + "; ";
  }
  return text;
}

}  // namespace

TEST_CASE("watch: state-sync equals the bucket, then resume delivers exactly the delta" * doctest::test_suite("nats")) {
  NatsServer server;
  Bucket b(server.url(), "cfg", {"--history", "10"});
  b.put("node.a", "1");
  b.put("node.b", "1");
  b.put("node.a", "2");
  b.put("cert/x", "pem");
  b.del("node.b");
  b.put("gone", "x");
  b.purge("gone");

  slip::test::TempDir dir;
  const std::string cursor = dir.file("cursor");
  auto first = b.watch({"--until-caught-up", "--cursor-file", cursor});
  REQUIRE_MESSAGE(first.exit_code == ec::kOk, first.err);
  auto updates = json_lines(first.out);
  CHECK(fold(updates) == std::map<std::string, std::string>{{"cert/x", "pem"}, {"node.a", "2"}});
  CHECK(read_cursor(cursor) == 7);

  b.put("node.c", "new");
  b.del("node.a");
  b.put("cert/x", "pem2");
  auto second = b.watch({"--until-caught-up", "--cursor-file", cursor});
  REQUIRE(second.exit_code == ec::kOk);
  auto delta = json_lines(second.out);
  REQUIRE(delta.size() == 3);
  CHECK(delta[0]["revision"] == 8);
  CHECK(delta[0]["key"] == "node.c");
  CHECK(delta[1]["op"] == "DEL");
  CHECK(delta[2]["value"] == "pem2");
  CHECK(read_cursor(cursor) == 10);

  // Nothing new: the resumed watch is caught up at once and prints nothing.
  auto idle = b.watch({"--until-caught-up", "--cursor-file", cursor});
  CHECK(idle.exit_code == ec::kOk);
  CHECK(idle.out.empty());

  // --since is the same resume without a file.
  auto since = json_lines(b.watch({"--until-caught-up", "--since", "8"}).out);
  REQUIRE(since.size() == 2);
  CHECK(since[0]["revision"] == 9);
}

TEST_CASE("watch: values that are not UTF-8 come as value_b64; text and value formats") {
  NatsServer server;
  Bucket b(server.url(), "bin");
  auto put =
      run_slip({"kv", "put", "bin", "blob", "-s", server.url()}, std::string("\xff\x00\x01", 3));
  REQUIRE(put.exit_code == 0);
  b.put("text", "héllo");
  auto lines = json_lines(b.watch({"--until-caught-up"}).out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["value_b64"] == "/wAB");
  CHECK_FALSE(lines[0].contains("value"));
  CHECK(lines[1]["value"] == "héllo");
  CHECK(b.watch({"--until-caught-up", "--format", "value", "text"}).out == "héllo\n");
  CHECK(b.watch({"--until-caught-up", "--format", "text", "text"}).out == "PUT text @2 = héllo\n");
}

TEST_CASE("watch: a cursor older than the bucket's history is CursorExpired, or relisted" * doctest::test_suite("nats")) {
  NatsServer server;
  Bucket b(server.url(), "h1", {"--history", "1"});
  for (const char* k : {"k1", "k2", "k3"}) b.put(k, "old");
  // Rewriting every key removes revisions 1-3: the stream now starts at 4.
  for (const char* k : {"k1", "k2", "k3"}) b.put(k, "new");

  auto expired = b.watch({"--until-caught-up", "--since", "2"});
  CHECK(expired.exit_code == ec::kNegative);
  CHECK(expired.out.empty());
  CHECK(expired.err.find("cursor 2 has expired") != std::string::npos);

  auto at_edge = json_lines(b.watch({"--until-caught-up", "--since", "3"}).out);
  CHECK(at_edge.size() == 3);

  auto relisted = b.watch({"--until-caught-up", "--since", "2", "--on-expired", "relist"});
  CHECK(relisted.exit_code == ec::kOk);
  auto lines = json_lines(relisted.out);
  REQUIRE(lines.size() == 4);
  // First the RESET: what the consumer holds is stale (a key deleted in
  // the gap would appear in no update).
  CHECK(lines[0] == json{{"op", "RESET"}, {"expired_cursor", 2}});
  lines.erase(lines.begin());
  CHECK(fold(lines) ==
        std::map<std::string, std::string>{{"k1", "new"}, {"k2", "new"}, {"k3", "new"}});
  auto text =
      b.watch({"--until-caught-up", "--since", "2", "--on-expired", "relist", "--format", "text"});
  CHECK(text.out.rfind("RESET after @2\n", 0) == 0);
  // With --exec the RESET is a run of its own; one that fails stops the
  // watch before any update (exit 1).
  slip::test::TempDir tmp;
  const std::string seen = tmp.file("seen");
  auto exec = b.watch({"--until-caught-up", "--since", "2", "--on-expired", "relist", "--exec",
                       "cat >> " + seen + "; echo --- >> " + seen});
  CHECK(exec.exit_code == ec::kOk);
  CHECK(slip::test::read_file(seen).rfind("{\"op\":\"RESET\",\"expired_cursor\":2}\n---\n", 0) ==
        0);
  auto refused = b.watch(
      {"--until-caught-up", "--since", "2", "--on-expired", "relist", "--exec", "grep -qv RESET"});
  CHECK(refused.exit_code == ec::kNegative);
  CHECK(refused.err.find("on the RESET line") != std::string::npos);

  auto ahead = b.watch({"--until-caught-up", "--since", "99"});
  CHECK(ahead.exit_code == ec::kNegative);
}

TEST_CASE("watch: several prefixes share one cursor that never skips an update" * doctest::test_suite("nats")) {
  NatsServer server;
  Bucket b(server.url(), "multi", {"--history", "10"});
  b.put("a.1", "x");
  b.put("c.1", "x");
  b.put("b.1", "x");
  slip::test::TempDir dir;
  const std::string cursor = dir.file("cursor");
  auto first = json_lines(b.watch({"a.", "b.", "--until-caught-up", "--cursor-file", cursor}).out);
  CHECK(first.size() == 2);
  CHECK(read_cursor(cursor) == 3);
  // Interleave updates in and out of scope.
  b.put("c.2", "x");
  b.put("b.2", "x");
  b.put("c.3", "x");
  b.put("a.2", "x");
  b.put("a.1", "y");
  b.put("c.4", "x");
  auto delta = json_lines(b.watch({"a.", "b.", "--until-caught-up", "--cursor-file", cursor}).out);
  std::vector<std::uint64_t> revisions;
  for (const json& u : delta) revisions.push_back(u["revision"]);
  CHECK(revisions == std::vector<std::uint64_t>{5, 7, 8});
  // The cursor passed the trailing out-of-scope update too.
  CHECK(read_cursor(cursor) == 9);
}

TEST_CASE("watch: --exec applies batches; a failing command leaves the cursor where it was") {
  NatsServer server;
  Bucket b(server.url(), "ex");
  for (int i = 1; i <= 5; ++i) b.put("k" + std::to_string(i), "v");
  slip::test::TempDir dir;
  const std::string cursor = dir.file("cursor");
  const std::string got = dir.file("got");

  auto ok = b.watch({"--until-caught-up", "--cursor-file", cursor, "--exec", "cat >> " + got});
  REQUIRE_MESSAGE(ok.exit_code == ec::kOk, ok.err);
  CHECK(json_lines(slip::test::read_file(got)).size() == 5);
  CHECK(read_cursor(cursor) == 5);

  b.put("k6", "v");
  b.put("k7", "v");
  auto failing =
      b.watch({"--until-caught-up", "--cursor-file", cursor, "--exec", "cat >/dev/null; exit 3"});
  CHECK(failing.exit_code == ec::kNegative);
  CHECK(failing.err.find("exited with status 3") != std::string::npos);
  CHECK(read_cursor(cursor) == 5);

  // The restart re-delivers the same batch.
  auto retry = b.watch({"--until-caught-up", "--cursor-file", cursor, "--exec", "cat >> " + got});
  REQUIRE(retry.exit_code == ec::kOk);
  auto all = json_lines(slip::test::read_file(got));
  REQUIRE(all.size() == 7);
  CHECK(all[5]["key"] == "k6");
  CHECK(read_cursor(cursor) == 7);
}

TEST_CASE("watch: a server killed and restarted mid-watch leaves no gap and no duplicate" * doctest::test_suite("nats")) {
  NatsServer server;
  Bucket b(server.url(), "live");
  slip::test::TempDir dir;
  const std::string out = dir.file("out");
  const std::string cursor = dir.file("cursor");
  slip::test::BackgroundProcess watch({SLIP_BINARY, "watch", "live", "-s", server.url(),
                                       "--cursor-file", cursor, "--batch-window", "0"},
                                      out);
  auto lines_seen = [&] { return json_lines(slip::test::read_file(out)).size(); };

  // One key per update: with history 1, rewriting a key while the watch is
  // away would legitimately remove the older revision from the stream.
  for (int i = 1; i <= 30; ++i) b.put("k" + std::to_string(i), std::to_string(i));
  REQUIRE(slip::test::wait_until([&] { return lines_seen() == 30; }, 20s));
  server.kill9();
  server.restart();
  for (int i = 31; i <= 60; ++i) b.put("k" + std::to_string(i), std::to_string(i));
  CHECK_MESSAGE(slip::test::wait_until([&] { return lines_seen() >= 60; }, 60s),
                std::string(slip::test::read_file(out + ".err") + server.log()));
  CHECK(watch.stop(SIGTERM) == ec::kInterrupted);
  auto updates = json_lines(slip::test::read_file(out));
  check_no_gap_no_duplicate(updates, 1, 60);
  CHECK(read_cursor(cursor) == 60);
}

TEST_CASE("watch: losing the connected node of a 3-node cluster leaves no gap and no duplicate" * doctest::test_suite("nats")) {
  slip::test::NatsCluster cluster(3);
  Bucket b(cluster.urls(), "r3", {"--replicas", "3"});
  slip::test::TempDir dir;
  const std::string out = dir.file("out");
  // The watch is given node 0 first, so that is the node it connects to.
  slip::test::BackgroundProcess watch(
      {SLIP_BINARY, "watch", "r3", "-s", cluster.urls(), "--batch-window", "0"}, out);
  auto lines_seen = [&] { return json_lines(slip::test::read_file(out)).size(); };
  for (int i = 1; i <= 20; ++i) b.put("k" + std::to_string(i), std::to_string(i));
  REQUIRE_MESSAGE(slip::test::wait_until([&] { return lines_seen() >= 20; }, 20s),
                  std::string(slip::test::read_file(out + ".err") + slip::test::read_file(out)));
  cluster.node(0).kill9();
  const std::string survivors = cluster.node(1).url() + "," + cluster.node(2).url();
  // While the stream elects a new leader a put may time out; a timed-out
  // put may still have been stored, so the revisions, not the count of
  // puts, say what the watch must deliver.
  for (int i = 21; i <= 40; ++i) {
    const std::string key = "k" + std::to_string(i);
    CHECK(slip::test::wait_until(
        [&] {
          return run_slip({"kv", "put", "r3", key, "v", "-s", survivors}).exit_code == 0;
        },
        30s));
  }
  auto status = run_slip({"kv", "status", "r3", "--json", "-s", survivors});
  REQUIRE(status.exit_code == 0);
  const std::uint64_t last = json::parse(status.out)["last_revision"];
  CHECK(slip::test::wait_until([&] { return lines_seen() >= last; }, 60s));
  watch.stop(SIGTERM);
  auto updates = json_lines(slip::test::read_file(out));
  check_no_gap_no_duplicate(updates, 1, last);
}

TEST_CASE("watch: negative numbers are usage errors") {
  for (auto args : std::vector<std::vector<std::string>>{{"--since", "-1"},
                                                         {"--count", "-1"},
                                                         {"--batch-max", "0"},
                                                         {"--batch-max", "-1"},
                                                         {"--count", "0"}}) {
    args.insert(args.begin(), {"watch", "b", "-s", "nats://127.0.0.1:1"});
    CAPTURE(args[4]);
    CHECK(run_slip(args).exit_code == ec::kUsage);
  }
}

TEST_CASE("watch: live updates are batched too, not only the initial state" * doctest::test_suite("nats")) {
  NatsServer server;
  Bucket b(server.url(), "batched");
  slip::test::TempDir dir;
  const std::string got = dir.file("batches");
  slip::test::BackgroundProcess watch(
      {SLIP_BINARY, "watch", "batched", "-s", server.url(), "--updates-only", "--count", "10",
       "--batch-window", "3000", "--exec", "wc -l >> " + got},
      dir.file("out"));
  // The watch has its consumer once a put made after it starts reaches it:
  // wait for the first batch, then write the rest quickly.
  REQUIRE(slip::test::wait_until(
      [&] {
        b.put("warmup", "x");
        return slip::test::file_exists(got);
      },
      20s));
  for (int i = 0; i < 9; ++i) b.put("k" + std::to_string(i), "v");
  CHECK(watch.wait(30s) == ec::kOk);
  std::istringstream in(slip::test::read_file(got));
  int batches = 0, updates = 0;
  for (std::string line; std::getline(in, line);) {
    ++batches;
    updates += std::stoi(line);
  }
  CHECK(updates == 10);
  CHECK(batches < 10);
}

TEST_CASE(
    "watch: a bucket deleted and created again under a running watch is reported, not skipped" * doctest::test_suite("nats")) {
  NatsServer server;
  Bucket b(server.url(), "again");
  for (int i = 1; i <= 10; ++i) b.put("old" + std::to_string(i), "v");
  slip::test::TempDir dir;
  const std::string out = dir.file("out");
  slip::test::BackgroundProcess watch({SLIP_BINARY, "watch", "again", "-s", server.url()}, out);
  REQUIRE(slip::test::wait_until(
      [&] { return json_lines(slip::test::read_file(out)).size() == 10; }, 20s));
  REQUIRE(run_slip({"kv", "rm", "again", "-s", server.url()}).exit_code == 0);
  Bucket again(server.url(), "again");
  for (int i = 1; i <= 12; ++i) again.put("new" + std::to_string(i), "v");
  CHECK(watch.wait(30s) == ec::kNegative);
  CHECK(slip::test::read_file(out + ".err").find("deleted and created again") != std::string::npos);
  // Nothing of the new bucket was printed as if it continued the old one.
  CHECK(json_lines(slip::test::read_file(out)).size() == 10);
}

TEST_CASE("watch: a second SIGTERM stops at once; the unfinished batch is not recorded") {
  NatsServer server;
  Bucket b(server.url(), "sig");
  b.put("k1", "v1");
  slip::test::TempDir tmp;
  const std::string cursor = tmp.file("cursor"), started = tmp.file("started");
  // The command announces its PID and then never finishes on its own.
  slip::test::BackgroundProcess watch(
      {SLIP_BINARY, "watch", "sig", "--cursor-file", cursor, "--exec",
       "echo $$ > " + started + ".tmp && mv " + started + ".tmp " + started + " && exec sleep 120",
       "-s", server.url()},
      tmp.file("out"));
  REQUIRE(slip::test::wait_until([&] { return std::filesystem::exists(started); }, 20s));
  const pid_t command = std::stoi(slip::test::read_file(started));
  // The first signal asks for a clean stop: the batch in hand first.
  REQUIRE(::kill(watch.pid(), SIGTERM) == 0);
  CHECK(watch.wait(300ms) == -1);
  // The second does not wait for it.
  const auto asked = std::chrono::steady_clock::now();
  CHECK(watch.stop(SIGTERM) == ec::kInterrupted);
  CHECK(std::chrono::steady_clock::now() - asked < 5s);
  CHECK_FALSE(std::filesystem::exists(cursor));  // nothing was recorded as applied
  // The command went with it (a zombie waiting for init to reap it counts
  // as gone).
  auto alive = [&] {
    std::ifstream in("/proc/" + std::to_string(command) + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
  };
  CHECK(slip::test::wait_until([&] { return !alive(); }, 5s));
  if (alive()) ::kill(command, SIGKILL);
}

TEST_CASE("watch: a cursor file from a bucket deleted and created again is not resumed" * doctest::test_suite("nats")) {
  NatsServer server;
  slip::test::TempDir dir;
  const std::string cursor = dir.file("cursor");
  {
    Bucket b(server.url(), "reborn");
    for (int i = 1; i <= 5; ++i) b.put("old" + std::to_string(i), "v");
    auto first = b.watch({"--until-caught-up", "--cursor-file", cursor});
    REQUIRE_MESSAGE(first.exit_code == ec::kOk, first.err);
  }
  const std::string written = slip::test::read_file(cursor);
  CHECK(read_cursor(cursor) == 5);
  CHECK(written.find("\nstream_created=") != std::string::npos);

  REQUIRE(run_slip({"kv", "rm", "reborn", "-s", server.url()}).exit_code == 0);
  Bucket again(server.url(), "reborn");
  // More revisions than the cursor: resumed as the same bucket, new1..new5
  // would be skipped and only new6..new8 delivered.
  for (int i = 1; i <= 8; ++i) again.put("new" + std::to_string(i), "n");

  auto refused = again.watch({"--until-caught-up", "--cursor-file", cursor});
  CHECK(refused.exit_code == ec::kNegative);
  CHECK(refused.err.find("deleted and created again") != std::string::npos);
  CHECK(refused.out.empty());
  CHECK(slip::test::read_file(cursor) == written);  // untouched

  auto relisted = again.watch({"--until-caught-up", "--cursor-file", cursor, "--on-expired",
                               "relist"});
  REQUIRE_MESSAGE(relisted.exit_code == ec::kOk, relisted.err);
  auto lines = json_lines(relisted.out);
  REQUIRE(lines.size() == 9);
  CHECK(lines[0]["op"] == "RESET");
  CHECK(lines[0]["expired_cursor"] == 5);
  lines.erase(lines.begin());
  std::map<std::string, std::string> expected;
  for (int i = 1; i <= 8; ++i) expected["new" + std::to_string(i)] = "n";
  CHECK(fold(lines) == expected);
  CHECK(read_cursor(cursor) == 8);

  // Now it is this bucket's cursor: resumed, nothing to deliver.
  auto resumed = again.watch({"--until-caught-up", "--cursor-file", cursor});
  CHECK(resumed.exit_code == ec::kOk);
  CHECK(resumed.out.empty());

  // A one-line file from an older slip adopts the current stream.
  slip::test::write_file(cursor, "6\n");
  auto old_format = again.watch({"--until-caught-up", "--cursor-file", cursor});
  REQUIRE_MESSAGE(old_format.exit_code == ec::kOk, old_format.err);
  CHECK(json_lines(old_format.out).size() == 2);
  CHECK(slip::test::read_file(cursor).find("\nstream_created=") != std::string::npos);

  // A damaged identity line is named, not guessed at.
  slip::test::write_file(cursor, "6\nstream_created=yesterday\n");
  auto damaged = again.watch({"--until-caught-up", "--cursor-file", cursor});
  CHECK(damaged.exit_code == ec::kDamaged);
  CHECK(damaged.err.find("stream_created=yesterday") != std::string::npos);
}

// cnats' reader thread delivering a message to a subscription that the
// main thread destroys at the same moment used to crash slip on the way
// out (SIGSEGV, SIGABRT, or a hang). Every way a watch ends while a big
// state-sync is streaming must end with its own exit status: --count, a
// SIGTERM, and a reader that closes the pipe.
TEST_CASE("watch: ending mid-stream over 50,000 keys never crashes or hangs" * doctest::test_suite("nats")) {
  constexpr int kCountRuns = 100;
  constexpr int kTermRuns = 50;
  constexpr int kPipeRuns = 50;
  constexpr auto kRunLimit = 15s;  // a hang fails the run; a clean one takes a fraction of a second
  NatsServer server;
  Bucket b(server.url(), "big");
  fill_bucket(server.url(), "big", 50000);
  slip::test::TempDir dir;
  const std::string out = dir.file("out");
  const std::vector<std::string> watch{SLIP_BINARY, "watch", "big", "-s", server.url()};
  std::string first_failure;
  auto note = [&](int code, int expected) {
    if (code != expected && first_failure.empty())
      first_failure = "exit " + std::to_string(code) + ": " + slip::test::read_file(out + ".err");
  };
  // Seconds per phase, for the log: all of it should take about a minute
  // at most (nats-server 2.9 is the slowest to start a 50,000-key watch).
  std::string phases;
  auto phase_start = std::chrono::steady_clock::now();
  auto phase_done = [&](const char* name) {
    const auto now = std::chrono::steady_clock::now();
    phases += std::string(name) + " " +
              std::to_string(std::chrono::duration<double>(now - phase_start).count()) + " s; ";
    phase_start = now;
  };

  Outcomes counted;
  for (int i = 0; i < kCountRuns; ++i) {
    std::vector<std::string> argv = watch;
    argv.insert(argv.end(), {"--count", "50"});
    slip::test::BackgroundProcess p(argv, out);
    const int code = p.wait(kRunLimit);  // on a hang the destructor kills it
    ++counted[code];
    note(code, ec::kOk);
  }
  phase_done("--count");
  CHECK_MESSAGE(counted == all_exit(ec::kOk, kCountRuns), (describe(counted) + first_failure));

  Outcomes terminated;
  for (int i = 0; i < kTermRuns; ++i) {
    slip::test::BackgroundProcess p(watch, out);
    int code = -1;
    if (slip::test::wait_until([&] { return std::filesystem::file_size(out) > 0; }, kRunLimit)) {
      ::kill(p.pid(), SIGTERM);
      code = p.wait(kRunLimit);
    }
    ++terminated[code];
    note(code, ec::kInterrupted);
  }
  phase_done("SIGTERM");
  CHECK_MESSAGE(terminated == all_exit(ec::kInterrupted, kTermRuns),
                (describe(terminated) + first_failure));

  // slip's own status, not head's: bash reports a signal death as 128+N,
  // and a hang as 137 (timeout kills slip itself, which killing bash would
  // not).
  Outcomes piped;
  const std::string limit = std::to_string(kRunLimit.count());
  for (int i = 0; i < kPipeRuns; ++i) {
    slip::test::BackgroundProcess p(
        {"bash", "-c",
         "timeout -s KILL " + limit +
             " \"$0\" watch big -s \"$1\" | head -3; exit ${PIPESTATUS[0]}",
         SLIP_BINARY, server.url()},
        out);
    const int code = p.wait(kRunLimit + 5s);
    ++piped[code];
    note(code, ec::kOk);
  }
  phase_done("pipe");
  CHECK_MESSAGE(piped == all_exit(ec::kOk, kPipeRuns), (describe(piped) + first_failure));

  MESSAGE((kCountRuns + kTermRuns + kPipeRuns) << " watch runs over 50,000 keys: " << phases);
}

TEST_CASE("watch: a limit marker the server writes is a purge with its reason, hidden by --ignore-deletes" * doctest::test_suite("nats")) {
  if (!slip::test::server_has(2, 11, "limit markers (subject_delete_marker_ttl)")) return;
  NatsServer server;
  Bucket b(server.url(), "aging", {"--max-age", "1s", "--marker-ttl", "1s"});
  slip::test::TempDir dir;
  const std::string all = dir.file("all");
  const std::string live = dir.file("live");
  slip::test::BackgroundProcess watch({SLIP_BINARY, "watch", "aging", "-s", server.url()}, all);
  slip::test::BackgroundProcess quiet(
      {SLIP_BINARY, "watch", "aging", "-s", server.url(), "--ignore-deletes"}, live);
  // Both watches have their consumers once a put made after they start
  // reaches them.
  REQUIRE(slip::test::wait_until(
      [&] {
        b.put("k", "v");
        return !json_lines(slip::test::read_file(all)).empty() &&
               !json_lines(slip::test::read_file(live)).empty();
      },
      20s));
  // k ages out: the server writes its marker (no KV-Operation header).
  json marker;
  REQUIRE(slip::test::wait_until(
      [&] {
        for (const json& line : json_lines(slip::test::read_file(all))) {
          if (line.contains("reason")) marker = line;
        }
        return !marker.is_null();
      },
      20s));
  CHECK(marker["key"] == "k");
  CHECK(marker["op"] == "PURGE");
  CHECK(marker["reason"] == "MaxAge");
  CHECK_FALSE(marker.contains("value"));
  // A put after the marker reaches the quiet watch after the marker did:
  // it printed no line for the marker, and none as a put of "".
  b.put("end", "x");
  REQUIRE(slip::test::wait_until(
      [&] {
        auto lines = json_lines(slip::test::read_file(live));
        return !lines.empty() && lines.back()["key"] == "end";
      },
      20s));
  for (const json& line : json_lines(slip::test::read_file(live))) {
    CHECK(line["op"] == "PUT");
    CHECK(line["value"] != "");
  }
}
