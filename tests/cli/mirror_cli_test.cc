// `slip mirror` against a real nats-server, real files and real LevelDB:
// equality after --once, locking, resync after cursor expiry, and kill -9
// at random moments under concurrent writes.
#include <doctest/doctest.h>
#include <nats/nats.h>
#include <signal.h>

#include <map>
#include <random>
#include <thread>

#include "slip/exit_codes.h"
#include "slip/fold.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::fold_model;
using slip::test::NatsServer;
using slip::test::put_value;
using slip::test::run_slip;
namespace ec = slip::exit_code;
using namespace std::chrono_literals;
using Model = std::map<std::string, std::string>;

namespace {

std::string fold_path(const slip::test::TempDir& dir, const std::string& backend) {
  return dir.file(backend == "log" ? "fold.snap" : "fold.ldb");
}

// Removes every message of KEY, markers included, as `nats kv purge-deletes`
// would: afterwards only a resync can notice that the key is gone.
void erase_key_from_stream(const NatsServer& server, const std::string& bucket,
                           const std::string& key) {
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
  jsOptions o;
  jsOptions_Init(&o);
  const std::string subject = "$KV." + bucket + "." + key;
  o.Stream.Purge.Subject = subject.c_str();
  jsErrCode jerr;
  CHECK(js_PurgeStream(js, ("KV_" + bucket).c_str(), &o, &jerr) == NATS_OK);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

}  // namespace

TEST_CASE("mirror: --once leaves a fold equal to the bucket, for both backends and prefix scopes" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "--history", "5", "-s", server.url()}).exit_code == 0);
  Model bucket;
  for (int i = 0; i < 40; ++i) {
    const std::string key = (i % 2 ? "node." : "cert.") + std::to_string(i % 13);
    put_value(server, "cfg", key, "v" + std::to_string(i));
    bucket[key] = "v" + std::to_string(i);
  }
  REQUIRE(run_slip({"kv", "del", "cfg", "node.1", "-s", server.url()}).exit_code == 0);
  REQUIRE(run_slip({"kv", "purge", "cfg", "cert.2", "-s", server.url()}).exit_code == 0);
  bucket.erase("node.1");
  bucket.erase("cert.2");
  Model nodes;
  for (const auto& [k, v] : bucket) {
    if (k.rfind("node.", 0) == 0) nodes[k] = v;
  }
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    slip::test::TempDir dir;
    auto all = run_slip({"mirror", "cfg", "--to", fold_path(dir, backend), "--backend", backend,
                         "--once", "-s", server.url()});
    REQUIRE_MESSAGE(all.exit_code == ec::kOk, all.err);
    std::uint64_t cursor = 0;
    CHECK(fold_model(fold_path(dir, backend), &cursor) == bucket);
    CHECK(cursor == 42);
    // The snapshot tools read both kinds of fold.
    auto verify = run_slip({"snapshot", "verify", "--json", fold_path(dir, backend)});
    CHECK_MESSAGE(verify.exit_code == ec::kOk, verify.err);
    CHECK(verify.out.find("\"live_keys\":" + std::to_string(bucket.size())) != std::string::npos);
    CHECK(verify.out.find("\"cursor\":42") != std::string::npos);
    auto get =
        run_slip({"snapshot", "inspect", "--get", bucket.begin()->first, fold_path(dir, backend)});
    CHECK(get.out == bucket.begin()->second);
    auto dump = run_slip({"snapshot", "dump", fold_path(dir, backend)});
    CHECK(dump.exit_code == ec::kOk);
    CHECK(dump.out.find("\"type\":\"cursor\"") != std::string::npos);

    const std::string scoped = dir.file(std::string("nodes.") + backend);
    auto prefix = run_slip({"mirror", "cfg", "--to", scoped, "--backend", backend, "--prefix",
                            "node.", "--once", "-s", server.url()});
    REQUIRE(prefix.exit_code == ec::kOk);
    CHECK(fold_model(scoped) == nodes);
  }
}

TEST_CASE("mirror: a second mirror on the same fold is refused" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "b", "-s", server.url()}).exit_code == 0);
  put_value(server, "b", "k", "v");
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.snap");
  slip::test::BackgroundProcess daemon(
      {SLIP_BINARY, "mirror", "b", "--to", path, "-s", server.url()}, dir.file("log"));
  REQUIRE(slip::test::wait_until(
      [&] {
        return slip::test::file_exists(path + ".lock") &&
               slip::test::read_file(path + ".lock").size() > 1;
      },
      10s));
  auto second = run_slip({"mirror", "b", "--to", path, "--once", "-s", server.url()});
  CHECK(second.exit_code == ec::kUnavailable);
  CHECK(second.err.find("in use by another slip process") != std::string::npos);
  CHECK(daemon.stop(SIGTERM) == ec::kOk);
}

TEST_CASE(
    "mirror: an expired cursor resyncs; keys deleted, purged and recreated in the gap converge") {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "h1", "--history", "1", "-s", server.url()}).exit_code == 0);
  for (const char* k : {"a", "b", "c", "d", "e"}) put_value(server, "h1", k, "old");
  slip::test::TempDir dir;
  for (const char* backend : {"log", "leveldb"}) {
    const std::string path = fold_path(dir, backend);
    REQUIRE(
        run_slip({"mirror", "h1", "--to", path, "--backend", backend, "--once", "-s", server.url()})
            .exit_code == 0);
    CHECK(fold_model(path).size() == 5);
  }
  // The gap: a deleted, b purged, c deleted and recreated, d and e rewritten
  // (with history 1 the stream now starts after the folds' cursor), then the
  // markers of a and b removed altogether, so only a resync can find them.
  REQUIRE(run_slip({"kv", "del", "h1", "a", "-s", server.url()}).exit_code == 0);
  REQUIRE(run_slip({"kv", "purge", "h1", "b", "-s", server.url()}).exit_code == 0);
  REQUIRE(run_slip({"kv", "del", "h1", "c", "-s", server.url()}).exit_code == 0);
  put_value(server, "h1", "c", "new");
  put_value(server, "h1", "d", "new");
  put_value(server, "h1", "e", "new");
  erase_key_from_stream(server, "h1", "a");
  erase_key_from_stream(server, "h1", "b");
  const Model expected{{"c", "new"}, {"d", "new"}, {"e", "new"}};
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string path = fold_path(dir, backend);
    auto run = run_slip({"mirror", "h1", "--to", path, "--once", "-s", server.url()});
    REQUIRE_MESSAGE(run.exit_code == ec::kOk, run.err);
    CHECK(run.err.find("resync") != std::string::npos);
    CHECK(fold_model(path) == expected);
  }
}

TEST_CASE("mirror: kill -9 at random moments under concurrent writes never loses or skips data" * doctest::test_suite("nats")) {
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    NatsServer server;
    REQUIRE(run_slip({"kv", "add", "crash", "-s", server.url()}).exit_code == 0);
    slip::test::TempDir dir;
    const std::string path = fold_path(dir, backend);
    REQUIRE(run_slip({"mirror", "crash", "--to", path, "--backend", backend, "--once", "-s",
                      server.url()})
                .exit_code == 0);
    // Each put is a new key k<i> holding v<i> at revision i, so the bucket's
    // state at any revision R is exactly k1..kR.
    const int total = 300;
    std::string script;
    for (int i = 1; i <= total; ++i) {
      script += std::string(SLIP_BINARY) + " kv put crash k" + std::to_string(i) + " v" +
                std::to_string(i) + " -s " + server.url() + " >/dev/null || exit 1\n";
    }
    slip::test::write_file(dir.file("writer.sh"), script);
    slip::test::BackgroundProcess writer({"sh", dir.file("writer.sh")}, dir.file("writer.out"));
    std::mt19937 rng(7);
    int rounds = 0;
    for (; rounds < 20; ++rounds) {
      slip::test::BackgroundProcess mirror(
          {SLIP_BINARY, "mirror", "crash", "--to", path, "-s", server.url()},
          dir.file("mirror.out"));
      // The kill lands at a random moment; the pause only picks the moment.
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 150));
      mirror.stop(SIGKILL);
      std::uint64_t cursor = 0;
      Model fold = fold_model(path, &cursor);
      CAPTURE(rounds);
      CAPTURE(cursor);
      // The cursor never names a revision whose data is missing.
      for (std::uint64_t r = 1; r <= cursor; ++r) {
        auto it = fold.find("k" + std::to_string(r));
        REQUIRE_MESSAGE(it != fold.end(), "k" << r << " missing below cursor " << cursor);
        CHECK(it->second == "v" + std::to_string(r));
      }
    }
    CHECK(writer.wait(60s) == 0);
    auto last = run_slip({"mirror", "crash", "--to", path, "--once", "-s", server.url()});
    REQUIRE_MESSAGE(last.exit_code == ec::kOk, last.err);
    std::uint64_t cursor = 0;
    Model fold = fold_model(path, &cursor);
    CHECK(cursor == static_cast<std::uint64_t>(total));
    CHECK(fold.size() == static_cast<std::size_t>(total));
  }
}

TEST_CASE("mirror: a bucket deleted and created again resyncs, also onto an empty one" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "re", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 50; ++i) put_value(server, "re", "k" + std::to_string(i), "old");
  slip::test::TempDir dir;
  for (const char* backend : {"log", "leveldb"}) {
    REQUIRE(run_slip({"mirror", "re", "--to", fold_path(dir, backend), "--backend", backend,
                      "--once", "-s", server.url()})
                .exit_code == 0);
  }
  // Recreated empty: nothing in it to deliver, so only the resync itself
  // can take the old bucket's cursor away.
  REQUIRE(run_slip({"kv", "rm", "re", "-s", server.url()}).exit_code == 0);
  REQUIRE(run_slip({"kv", "add", "re", "-s", server.url()}).exit_code == 0);
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    auto run = run_slip({"mirror", "re", "--to", fold_path(dir, backend), "--once", "-s",
                         server.url()});
    REQUIRE_MESSAGE(run.exit_code == ec::kOk, run.err);
    CHECK(run.err.find("deleted and created again") != std::string::npos);
    std::uint64_t cursor = 99;
    CHECK(fold_model(fold_path(dir, backend), &cursor).empty());
    CHECK(cursor == 0);
  }
  // Its first writes are the new bucket's revisions 1 to 3: a fold still
  // at the old cursor 50 would wait past them.
  const Model fresh{{"x", "1"}, {"y", "2"}, {"z", "3"}};
  for (const auto& [k, v] : fresh) put_value(server, "re", k, v);
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    auto run = run_slip({"mirror", "re", "--to", fold_path(dir, backend), "--once", "-s",
                         server.url()});
    REQUIRE_MESSAGE(run.exit_code == ec::kOk, run.err);
    CHECK(run.err.find("deleted and created again") == std::string::npos);
    std::uint64_t cursor = 0;
    CHECK(fold_model(fold_path(dir, backend), &cursor) == fresh);
    CHECK(cursor == 3);
  }
}

TEST_CASE("mirror: a bucket deleted and created again under a running mirror resyncs onto the new stream" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "live", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 5; ++i) put_value(server, "live", "old" + std::to_string(i), "o");
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    slip::test::TempDir dir;
    const std::string path = fold_path(dir, backend);
    slip::test::BackgroundProcess daemon({SLIP_BINARY, "mirror", "live", "--to", path,
                                          "--backend", backend, "--log-format", "json", "-s",
                                          server.url()},
                                         dir.file("log"));
    const std::string err = dir.file("log") + ".err";
    REQUIRE(slip::test::wait_until(
        [&] { return slip::test::read_file(err).find("\"caught_up\"") != std::string::npos; },
        20s));
    REQUIRE(run_slip({"kv", "rm", "live", "-s", server.url()}).exit_code == 0);
    REQUIRE(run_slip({"kv", "add", "live", "-s", server.url()}).exit_code == 0);
    // More writes than the old bucket had, so the new stream passes the
    // old cursor: resumed as if it were the same bucket, the fold would
    // keep old0..old4 and skip new0..new4.
    Model fresh;
    for (int i = 0; i < 8; ++i) {
      put_value(server, "live", "new" + std::to_string(i), "n");
      fresh["new" + std::to_string(i)] = "n";
    }
    const bool resynced = slip::test::wait_until(
        [&] {
          const std::string log = slip::test::read_file(err);
          return log.find("\"bucket_recreated\"") != std::string::npos ||
                 log.find("\"cursor_expired\"") != std::string::npos;
        },
        30s);
    CHECK_MESSAGE(resynced, slip::test::read_file(err));
    // The stop commits what was applied; then the fold is read at rest.
    REQUIRE(slip::test::wait_until(
        [&] {
          return slip::test::read_file(err).rfind("\"caught_up\"") >
                 slip::test::read_file(err).find("\"resync\"");
        },
        30s));
    CHECK(daemon.stop(SIGTERM) == ec::kOk);
    std::uint64_t cursor = 0;
    CHECK(fold_model(path, &cursor) == fresh);
    CHECK(cursor == 8);
    // And a restart resumes it as the same bucket.
    auto again = run_slip({"mirror", "live", "--to", path, "--once", "-s", server.url()});
    REQUIRE_MESSAGE(again.exit_code == ec::kOk, again.err);
    CHECK(again.err.find("deleted and created again") == std::string::npos);
    CHECK(fold_model(path) == fresh);
    REQUIRE(run_slip({"kv", "rm", "live", "-s", server.url()}).exit_code == 0);
    REQUIRE(run_slip({"kv", "add", "live", "-s", server.url()}).exit_code == 0);
    for (int i = 0; i < 5; ++i) put_value(server, "live", "old" + std::to_string(i), "o");
  }
}

TEST_CASE("mirror: a reconcile owed by an earlier run is done at the next start, then cleared" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "owed", "-s", server.url()}).exit_code == 0);
  put_value(server, "owed", "a", "1");
  put_value(server, "owed", "b", "2");
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.snap");
  REQUIRE(run_slip({"mirror", "owed", "--to", path, "--once", "-s", server.url()}).exit_code == 0);
  // A plain bucket never needs one at the start...
  auto plain = run_slip({"mirror", "owed", "--to", path, "--once", "-s", server.url()});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.err.find("reconcile") == std::string::npos);
  // ...unless the last run stopped with one owed (as a stop in the middle
  // of a --reconcile leaves it), while the purge API removed a key.
  erase_key_from_stream(server, "owed", "a");
  std::string origin = slip::test::read_file(path + ".origin");
  REQUIRE(origin.find("reconcile_owed") == std::string::npos);
  origin.insert(origin.rfind('}'), ",\"reconcile_owed\":true");
  slip::test::write_file(path + ".origin", origin);
  auto owed = run_slip({"mirror", "owed", "--to", path, "--once", "-s", server.url()});
  REQUIRE_MESSAGE(owed.exit_code == 0, owed.err);
  CHECK(owed.err.find("an earlier run stopped before its reconcile was done") != std::string::npos);
  CHECK(fold_model(path) == Model{{"b", "2"}});
  CHECK(slip::test::read_file(path + ".origin").find("reconcile_owed") == std::string::npos);
}

TEST_CASE("mirror: a first run that fails leaves no fold behind" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "first", "-s", server.url()}).exit_code == 0);
  put_value(server, "first", "k", "v");
  slip::test::TempDir dir;
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string path = fold_path(dir, backend);
    // Found before the fold is opened, and after.
    auto missing = run_slip({"mirror", "nosuch", "--to", path, "--backend", backend, "--once",
                             "-s", server.url()});
    CHECK(missing.exit_code != ec::kOk);
    CHECK_FALSE(slip::test::file_exists(path));
    auto late = run_slip({"mirror", "first", "--to", path, "--backend", backend, "--once",
                          "--reconcile-every", "soon", "-s", server.url()});
    CHECK(late.exit_code == ec::kUsage);
    CHECK_FALSE(slip::test::file_exists(path));
    CHECK_FALSE(slip::test::file_exists(path + ".origin"));
    CHECK_FALSE(slip::test::file_exists(path + ".lock"));
    // A fold that existed is never removed, committed to or not.
    auto ok = run_slip({"mirror", "first", "--to", path, "--backend", backend, "--once", "-s",
                        server.url()});
    REQUIRE_MESSAGE(ok.exit_code == ec::kOk, ok.err);
    auto again = run_slip({"mirror", "first", "--to", path, "--once", "--reconcile-every",
                           "soon", "-s", server.url()});
    CHECK(again.exit_code == ec::kUsage);
    CHECK(fold_model(path) == Model{{"k", "v"}});
  }
}
