// `slip diff` run as a process over real snapshot files, real LevelDB folds
// and real buckets on a real nats-server: every pair of source kinds, every
// kind of difference, the output formats and the exit codes.
#include <doctest/doctest.h>
#include <signal.h>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <map>

#include "slip/exit_codes.h"
#include "slip/fold.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/snapshot_model.h"

using nlohmann::json;
using slip::VersionToken;
using slip::test::fold_model;
using slip::test::NatsServer;
using slip::test::put_value;
using slip::test::run_slip;
namespace ec = slip::exit_code;
using namespace std::chrono_literals;

namespace {

// key -> (value, revision)
using State = std::map<std::string, std::pair<std::string, std::uint64_t>>;

void write_snapshot(const std::string& path, const State& state, std::uint64_t cursor) {
  std::vector<slip::test::Op> ops;
  for (const auto& [k, v] : state)
    ops.push_back(
        {slip::snapshot::RecordType::kPut, k, v.first, VersionToken::from_revision(v.second)});
  ops.push_back({slip::snapshot::RecordType::kCursor, "", "", VersionToken::from_revision(cursor)});
  slip::test::write_file(path, slip::test::encode_ops(ops));
}

// The same state as a log written out of key order, with a delete: the
// indexed path rather than the streamed one.
void write_log(const std::string& path, const State& state, std::uint64_t cursor) {
  std::vector<slip::test::Op> ops;
  ops.push_back(
      {slip::snapshot::RecordType::kPut, "zz-deleted", "x", VersionToken::from_revision(1)});
  for (auto it = state.rbegin(); it != state.rend(); ++it) {
    ops.push_back({slip::snapshot::RecordType::kPut, it->first, it->second.first,
                   VersionToken::from_revision(it->second.second)});
  }
  ops.push_back(
      {slip::snapshot::RecordType::kDelete, "zz-deleted", "", VersionToken::from_revision(2)});
  ops.push_back({slip::snapshot::RecordType::kCursor, "", "", VersionToken::from_revision(cursor)});
  slip::test::write_file(path, slip::test::encode_ops(ops));
}

void write_leveldb(const std::string& path, const State& state, std::uint64_t cursor) {
  auto store = slip::fold::open_leveldb(path, {});
  REQUIRE(store.is_ok());
  std::vector<slip::fold::Mutation> m;
  for (const auto& [k, v] : state) m.push_back({k, v.first, VersionToken::from_revision(v.second)});
  REQUIRE((*store)->commit(m, VersionToken::from_revision(cursor)).is_ok());
}

// Writes STATE as KIND ("snap", "log" or "ldb") under DIR; returns the path.
std::string make_source(const slip::test::TempDir& dir, const std::string& name,
                        const std::string& kind, const State& state, std::uint64_t cursor = 100) {
  const std::string path = dir.file(name + "." + kind);
  if (kind == "snap") write_snapshot(path, state, cursor);
  if (kind == "log") write_log(path, state, cursor);
  if (kind == "ldb") write_leveldb(path, state, cursor);
  return path;
}

void check_one_line_error(const slip::test::ProcessResult& run) {
  CHECK(run.err.rfind("slip: error: ", 0) == 0);
  REQUIRE_FALSE(run.err.empty());
  CHECK(run.err.find('\n') == run.err.size() - 1);
}

std::vector<json> json_lines(const std::string& out) {
  std::vector<json> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    lines.push_back(json::parse(out.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

const State kBase{{"cfg.a", {"alpha", 3}},
                  {"cfg.b", {"beta", 4}},
                  {"node.eu-1", {"up", 7}},
                  {"node.eu-2", {"down", 8}}};

const char* const kKinds[] = {"snap", "log", "ldb"};

}  // namespace

TEST_CASE("diff cli: every pair of file sources: identical, disjoint, one change, revision only") {
  for (const char* ka : kKinds) {
    for (const char* kb : kKinds) {
      CAPTURE(ka);
      CAPTURE(kb);
      slip::test::TempDir dir;
      const std::string a = make_source(dir, "a", ka, kBase);

      auto same = run_slip({"diff", a, make_source(dir, "same", kb, kBase)});
      CHECK_MESSAGE(same.exit_code == ec::kOk, same.err);
      CHECK(same.out.empty());
      CHECK(same.err.empty());

      const State other{{"x.1", {"1", 1}}, {"x.2", {"2", 2}}};
      auto disjoint = run_slip({"diff", a, make_source(dir, "other", kb, other)});
      CHECK(disjoint.exit_code == ec::kNegative);
      CHECK(disjoint.out == "- cfg.a\n- cfg.b\n- node.eu-1\n- node.eu-2\n+ x.1\n+ x.2\n");
      CHECK(disjoint.err.empty());

      State changed = kBase;
      changed["node.eu-1"] = {"DOWN", 40};
      auto one = run_slip({"diff", a, make_source(dir, "changed", kb, changed)});
      CHECK(one.exit_code == ec::kNegative);
      CHECK(one.out == "~ node.eu-1  rev 7 -> 40\n");

      State bumped = kBase;
      bumped["cfg.b"] = {"beta", 12};
      const std::string b = make_source(dir, "bumped", kb, bumped);
      auto rev = run_slip({"diff", a, b});
      CHECK(rev.exit_code == ec::kNegative);
      CHECK(rev.out == "~ cfg.b  rev 4 -> 12  (same value)\n");
      auto ignored = run_slip({"diff", "--ignore-revisions", a, b});
      CHECK_MESSAGE(ignored.exit_code == ec::kOk, ignored.err);
      CHECK(ignored.out.empty());
    }
  }
}

TEST_CASE("diff cli: --json, --values and --stat") {
  slip::test::TempDir dir;
  const std::string a = make_source(dir, "a", "snap", kBase, 10);
  State b_state = kBase;
  b_state.erase("cfg.a");
  b_state["cfg.b"] = {"beta", 12};
  b_state["node.eu-1"] = {"UP", 13};
  b_state["node.eu-3"] = {"new", 14};
  const std::string b = make_source(dir, "b", "ldb", b_state, 14);

  auto text = run_slip({"diff", "--values", a, b});
  CHECK(text.exit_code == ec::kNegative);
  CHECK(text.out ==
        "- cfg.a\n  < alpha\n"
        "~ cfg.b  rev 4 -> 12  (same value)\n  < beta\n  > beta\n"
        "~ node.eu-1  rev 7 -> 13\n  < up\n  > UP\n"
        "+ node.eu-3\n  > new\n");

  auto j = run_slip({"diff", "--json", a, b});
  CHECK(j.exit_code == ec::kNegative);
  auto lines = json_lines(j.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] ==
        json::parse(R"({"change":"removed","key":"cfg.a","a":{"revision":3},"b":null})"));
  CHECK(
      lines[1] ==
      json::parse(R"({"change":"revision","key":"cfg.b","a":{"revision":4},"b":{"revision":12}})"));
  CHECK(lines[2] ==
        json::parse(
            R"({"change":"changed","key":"node.eu-1","a":{"revision":7},"b":{"revision":13}})"));
  CHECK(lines[3] ==
        json::parse(R"({"change":"added","key":"node.eu-3","a":null,"b":{"revision":14}})"));

  auto jv = run_slip({"diff", "--json", "--values", a, b});
  lines = json_lines(jv.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2]["a"]["value"] == "up");
  CHECK(lines[2]["b"]["value"] == "UP");
  CHECK(lines[3]["b"]["value"] == "new");

  auto stat = run_slip({"diff", "--stat", a, b});
  CHECK(stat.exit_code == ec::kNegative);
  CHECK(stat.out == "a: " + a + "  4 keys  cursor 10\nb: " + b +
                        "  4 keys  cursor 14\n1 added, 1 removed, 1 changed, 1 revision only, "
                        "1 unchanged\n");
  auto sj = run_slip({"diff", "--stat", "--json", a, b});
  CHECK(sj.exit_code == ec::kNegative);
  CHECK(json::parse(sj.out) == json{{"a", {{"source", a}, {"keys", 4}, {"cursor", 10}}},
                                    {"b", {{"source", b}, {"keys", 4}, {"cursor", 14}}},
                                    {"added", 1},
                                    {"removed", 1},
                                    {"changed", 1},
                                    {"revision", 1},
                                    {"unchanged", 1}});

  // --prefix narrows both sides.
  auto scoped = run_slip({"diff", "--prefix", "cfg.", a, b});
  CHECK(scoped.out == "- cfg.a\n~ cfg.b  rev 4 -> 12  (same value)\n");
  auto none = run_slip({"diff", "--prefix", "node.eu-2", a, b});
  CHECK(none.exit_code == ec::kOk);
  auto stat_none = run_slip({"diff", "--stat", "--json", "--prefix", "node.eu-2", a, b});
  CHECK(json::parse(stat_none.out)["a"]["keys"] == 1);

  auto usage = run_slip({"diff", "--stat", "--values", a, b});
  CHECK(usage.exit_code == ec::kUsage);
}

TEST_CASE("diff cli: unicode and binary keys and values") {
  slip::test::TempDir dir;
  const std::string bin_key("k\x00\x01\xff", 4);
  const std::string bin_value("\x00\xfe\n", 3);
  const State a_state{{"caf\xc3\xa9", {"cr\xc3\xa8me", 1}}, {"plain", {"v", 2}}};
  State b_state = a_state;
  b_state["caf\xc3\xa9"] = {"br\xc3\xbbl\xc3\xa9", 3};
  b_state[bin_key] = {bin_value, 4};
  b_state["plain"] = {"line\nbreak", 5};
  // Snapshot keys must be UTF-8; LevelDB folds hold any bytes.
  const std::string a = make_source(dir, "a", "snap", a_state);
  const std::string b = make_source(dir, "b", "ldb", b_state);

  auto text = run_slip({"diff", "--values", a, b});
  CHECK(text.exit_code == ec::kNegative);
  CHECK(text.out ==
        "~ caf\xc3\xa9  rev 1 -> 3\n  < cr\xc3\xa8me\n  > br\xc3\xbbl\xc3\xa9\n"
        "+ \"k\\x00\\x01\\xff\"\n  > \"\\x00\\xfe\\n\"\n"
        "~ plain  rev 2 -> 5\n  < v\n  > \"line\\nbreak\"\n");

  auto j = run_slip({"diff", "--json", "--values", a, b});
  auto lines = json_lines(j.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["key"] == "caf\xc3\xa9");
  CHECK(lines[0]["b"]["value"] == "br\xc3\xbbl\xc3\xa9");
  CHECK_FALSE(lines[1].contains("key"));
  CHECK(slip::test::from_base64(lines[1]["key_b64"]) == bin_key);
  CHECK(slip::test::from_base64(lines[1]["b"]["value_b64"]) == bin_value);
  CHECK(lines[2]["b"]["value"] == "line\nbreak");
}

TEST_CASE("diff cli: empty folds and files") {
  slip::test::TempDir dir;
  const std::string empty_ldb = dir.file("empty.ldb");
  {
    auto store = slip::fold::open_leveldb(empty_ldb, {});
    REQUIRE(store.is_ok());
  }
  const std::string empty_snap = make_source(dir, "empty", "snap", {});
  slip::test::write_file(dir.file("zero.snap"), "");  // a log fold before its first commit
  for (const std::string& x : {empty_ldb, empty_snap, dir.file("zero.snap")}) {
    for (const std::string& y : {empty_ldb, empty_snap, dir.file("zero.snap")}) {
      auto r = run_slip({"diff", x, y});
      CHECK_MESSAGE(r.exit_code == ec::kOk, std::string(x + " " + y + ": " + r.err));
      CHECK(r.out.empty());
    }
  }
  const std::string full = make_source(dir, "full", "snap", kBase);
  auto added = run_slip({"diff", empty_ldb, full});
  CHECK(added.exit_code == ec::kNegative);
  CHECK(added.out == "+ cfg.a\n+ cfg.b\n+ node.eu-1\n+ node.eu-2\n");
  auto stat = run_slip({"diff", "--stat", "--json", dir.file("zero.snap"), full});
  CHECK(json::parse(stat.out)["a"]["cursor"].is_null());
}

TEST_CASE("diff cli: damaged inputs exit 3 and print no diff") {
  slip::test::TempDir dir;
  const std::string good = make_source(dir, "good", "snap", kBase);
  State changed = kBase;
  changed["cfg.a"] = {"other", 99};
  for (const char* kind : {"snap", "log"}) {
    CAPTURE(kind);
    const std::string bytes = slip::test::read_file(make_source(dir, "src", kind, changed));
    const std::string truncated = dir.file("truncated.snap");
    slip::test::write_file(truncated, bytes.substr(0, bytes.size() - 3));
    const std::string corrupted = dir.file("corrupted.snap");
    std::string flipped = bytes;
    flipped[20] ^= 0x01;
    slip::test::write_file(corrupted, flipped);
    for (const std::string& bad : {truncated, corrupted}) {
      CAPTURE(bad);
      for (bool bad_first : {true, false}) {
        auto r = bad_first ? run_slip({"diff", bad, good}) : run_slip({"diff", good, bad});
        CHECK(r.exit_code == ec::kDamaged);
        CHECK(r.out.empty());
        check_one_line_error(r);
        CHECK(r.err.find(bad) != std::string::npos);
      }
    }
  }
  slip::test::write_file(dir.file("text.snap"), "not a snapshot at all\n");
  auto invalid = run_slip({"diff", dir.file("text.snap"), good});
  CHECK(invalid.exit_code == ec::kDamaged);
  CHECK(invalid.err.find("bad magic") != std::string::npos);
}

TEST_CASE("diff cli: bad arguments exit 2; a fold in use exits 4") {
  slip::test::TempDir dir;
  const std::string good = make_source(dir, "good", "snap", kBase);
  {
    const std::string empty_location = "file://" + dir.file("no-exports");
    auto r = run_slip({"diff", empty_location, good});
    CHECK(r.exit_code == ec::kUsage);
    check_one_line_error(r);
    CHECK(r.err.find("no exports under") != std::string::npos);
  }
  auto missing = run_slip({"diff", good, dir.file("nope")});
  CHECK(missing.exit_code == ec::kUsage);
  check_one_line_error(missing);
  CHECK(missing.err.find("nope") != std::string::npos);
  CHECK_FALSE(slip::test::file_exists(dir.file("nope")));

  auto not_fold = run_slip({"diff", good, dir.path()});
  CHECK(not_fold.exit_code == ec::kUsage);
  check_one_line_error(not_fold);

  auto bad_bucket = run_slip({"diff", good, "kv:no spaces"});
  CHECK(bad_bucket.exit_code == ec::kUsage);
  check_one_line_error(bad_bucket);

  auto one_arg = run_slip({"diff", good});
  CHECK(one_arg.exit_code == ec::kUsage);

  // A LevelDB fold held by a writer (here this test process; in real life
  // a running mirror).
  const std::string ldb = make_source(dir, "held", "ldb", kBase);
  {
    auto writer = slip::fold::open_leveldb(ldb, {});
    REQUIRE(writer.is_ok());
    auto busy = run_slip({"diff", good, ldb});
    CHECK(busy.exit_code == ec::kUnavailable);
    check_one_line_error(busy);
    CHECK(busy.err.find("in use by another slip process") != std::string::npos);
  }
  // A fold compared with itself is opened once.
  auto self = run_slip({"diff", ldb, ldb});
  CHECK_MESSAGE(self.exit_code == ec::kOk, self.err);
}

TEST_CASE("diff cli: a live bucket against its own mirror --once fold, files and buckets" * doctest::test_suite("nats")) {
  NatsServer server;
  const std::string url = server.url();
  REQUIRE(run_slip({"kv", "add", "cfg", "--history", "5", "-s", url}).exit_code == 0);
  for (int i = 0; i < 30; ++i) {
    put_value(server, "cfg", (i % 2 ? "node." : "cert.") + std::to_string(i % 11),
              "v" + std::to_string(i));
  }
  put_value(server, "cfg", "bin", std::string("\x00\xff\x01", 3));
  REQUIRE(run_slip({"kv", "del", "cfg", "node.1", "-s", url}).exit_code == 0);

  slip::test::TempDir dir;
  const std::string log = dir.file("fold.snap");
  const std::string ldb = dir.file("fold.ldb");
  for (const auto& [path, backend] : {std::pair{log, "log"}, std::pair{ldb, "leveldb"}}) {
    auto m = run_slip({"mirror", "cfg", "--to", path, "--backend", backend, "--once", "-s", url});
    REQUIRE_MESSAGE(m.exit_code == ec::kOk, m.err);
  }
  const std::string scoped = dir.file("nodes.ldb");
  REQUIRE(run_slip({"mirror", "cfg", "--to", scoped, "--backend", "leveldb", "--prefix", "node.",
                    "--once", "-s", url})
              .exit_code == ec::kOk);

  for (const std::string& fold : {log, ldb}) {
    CAPTURE(fold);
    for (bool bucket_first : {true, false}) {
      auto r = bucket_first ? run_slip({"diff", "kv:cfg", fold, "-s", url})
                            : run_slip({"diff", fold, "kv:cfg", "-s", url});
      CHECK_MESSAGE(r.exit_code == ec::kOk, r.err);
      CHECK(r.out.empty());
      auto v = run_slip({"diff", "--ignore-revisions", "kv:cfg", fold, "-s", url});
      CHECK_MESSAGE(v.exit_code == ec::kOk, v.err);
    }
    auto stat = run_slip({"diff", "--stat", "--json", fold, "kv:cfg", "-s", url});
    CHECK(stat.exit_code == ec::kOk);
    auto s = json::parse(stat.out);
    CHECK(s["a"]["cursor"] == s["b"]["cursor"]);
    CHECK(s["unchanged"] == s["a"]["keys"]);
  }
  CHECK(run_slip({"diff", log, ldb}).exit_code == ec::kOk);
  // A prefix-scoped fold equals its scope of the bucket, not the bucket.
  CHECK(run_slip({"diff", "--prefix", "node.", "kv:cfg", scoped, "-s", url}).exit_code == ec::kOk);
  auto unscoped = run_slip({"diff", "kv:cfg", scoped, "-s", url});
  CHECK(unscoped.exit_code == ec::kNegative);
  CHECK(unscoped.out.find("- cert.0\n") != std::string::npos);

  // The bucket moves on: a change, an addition, a deletion, a rewrite of
  // the same value, and a binary value.
  put_value(server, "cfg", "node.3", "changed");
  put_value(server, "cfg", "node.99", "fresh");
  REQUIRE(run_slip({"kv", "del", "cfg", "cert.0", "-s", url}).exit_code == 0);
  auto old_value = run_slip({"kv", "get", "cfg", "cert.2", "-s", url});
  put_value(server, "cfg", "cert.2", old_value.out);
  put_value(server, "cfg", "bin", std::string("\x00\xff\x02", 3));
  for (const std::string& fold : {log, ldb}) {
    CAPTURE(fold);
    auto r = run_slip({"diff", fold, "kv:cfg", "-s", url});
    CHECK(r.exit_code == ec::kNegative);
    auto json_run = run_slip({"diff", "--json", "--values", fold, "kv:cfg", "-s", url});
    auto lines = json_lines(json_run.out);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0]["key"] == "bin");
    CHECK(lines[0]["change"] == "changed");
    CHECK(slip::test::from_base64(lines[0]["b"]["value_b64"]) == std::string("\x00\xff\x02", 3));
    CHECK(lines[1] ==
          json{{"change", "removed"}, {"key", "cert.0"}, {"a", lines[1]["a"]}, {"b", nullptr}});
    CHECK(lines[2]["key"] == "cert.2");
    CHECK(lines[2]["change"] == "revision");
    CHECK(lines[3]["key"] == "node.3");
    CHECK(lines[3]["b"]["value"] == "changed");
    CHECK(lines[4]["key"] == "node.99");
    CHECK(lines[4]["change"] == "added");
    auto ign = run_slip({"diff", "--json", "--ignore-revisions", fold, "kv:cfg", "-s", url});
    CHECK(json_lines(ign.out).size() == 4);  // the rewrite of cert.2 is no difference
  }

  // Two buckets with the same content: every key at other revisions.
  REQUIRE(run_slip({"kv", "add", "copy", "-s", url}).exit_code == 0);
  put_value(server, "copy", "x", "1");
  put_value(server, "copy", "y", "2");
  REQUIRE(run_slip({"kv", "add", "orig", "-s", url}).exit_code == 0);
  put_value(server, "orig", "pad", "p");
  put_value(server, "orig", "x", "1");
  put_value(server, "orig", "y", "2");
  REQUIRE(run_slip({"kv", "del", "orig", "pad", "-s", url}).exit_code == 0);
  auto buckets = run_slip({"diff", "kv:orig", "kv:copy", "-s", url});
  CHECK(buckets.exit_code == ec::kNegative);
  CHECK(buckets.out == "~ x  rev 2 -> 1  (same value)\n~ y  rev 3 -> 2  (same value)\n");
  auto restored = run_slip({"diff", "--ignore-revisions", "kv:orig", "kv:copy", "-s", url});
  CHECK_MESSAGE(restored.exit_code == ec::kOk, restored.err);

  auto missing = run_slip({"diff", "kv:nope", log, "-s", url});
  CHECK(missing.exit_code == ec::kUsage);
  check_one_line_error(missing);

  server.stop();
  auto down = run_slip({"diff", "kv:cfg", log, "-s", url, "--timeout", "1s"});
  CHECK(down.exit_code == ec::kUnavailable);
  check_one_line_error(down);
}

TEST_CASE("diff cli: a fold being written by a running mirror is refused with exit 4" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "live", "-s", server.url()}).exit_code == 0);
  put_value(server, "live", "k", "v");
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.ldb");
  REQUIRE(run_slip({"mirror", "live", "--to", path, "--backend", "leveldb", "--once", "-s",
                    server.url()})
              .exit_code == ec::kOk);
  slip::test::BackgroundProcess mirror(
      {SLIP_BINARY, "mirror", "live", "--to", path, "--backend", "leveldb", "-s", server.url()},
      dir.file("mirror.out"));
  REQUIRE(slip::test::wait_until(
      [&] {
        // The lock file names its holder.
        return slip::test::file_exists(path + "/slip.lock") &&
               slip::test::read_file(path + "/slip.lock") == std::to_string(mirror.pid()) + "\n";
      },
      10s));
  auto r = run_slip({"diff", path, "kv:live", "-s", server.url()});
  CHECK(r.exit_code == ec::kUnavailable);
  check_one_line_error(r);
  CHECK(r.err.find("in use by another slip process (pid " + std::to_string(mirror.pid())) !=
        std::string::npos);
  // SIGTERM may find the mirror still connecting (143) or running (0).
  const int stopped = mirror.stop(SIGTERM);
  CHECK((stopped == ec::kOk || stopped == 128 + SIGTERM));
  auto after = run_slip({"diff", path, "kv:live", "-s", server.url()});
  CHECK_MESSAGE(after.exit_code == ec::kOk, after.err);
}

TEST_CASE("diff cli: an exported artifact compares with its fold, the bucket and a damaged copy" * doctest::test_suite("nats")) {
  NatsServer server;
  const std::string url = server.url();
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", url}).exit_code == 0);
  for (int i = 0; i < 12; ++i)
    put_value(server, "cfg", "k" + std::to_string(i), "v" + std::to_string(i));
  slip::test::TempDir dir;
  const std::string fold = dir.file("fold.snap");
  const std::string location = "file://" + dir.file("exports");
  REQUIRE(run_slip({"mirror", "cfg", "--to", fold, "--once", "-s", url}).exit_code == 0);
  auto exported = run_slip({"export", "--from", fold, "--to", location});
  REQUIRE_MESSAGE(exported.exit_code == 0, exported.err);

  CHECK(run_slip({"diff", fold, location}).exit_code == 0);
  CHECK(run_slip({"diff", location, "kv:cfg", "-s", url}).exit_code == 0);
  put_value(server, "cfg", "k3", "changed");
  auto changed = run_slip({"diff", location, "kv:cfg", "-s", url});
  CHECK(changed.exit_code == 1);
  CHECK(changed.out.find("~ k3") != std::string::npos);
  auto stat = run_slip({"diff", "--stat", location, fold});
  CHECK(stat.exit_code == 0);
  // The other pairs: artifact and LevelDB fold, artifact and artifact.
  REQUIRE(run_slip({"import", location, "--to", dir.file("fold.ldb"), "--backend", "leveldb"})
              .exit_code == 0);
  CHECK(run_slip({"diff", location, dir.file("fold.ldb")}).exit_code == 0);
  CHECK(run_slip({"diff", location, location}).exit_code == 0);

  // A flipped byte in the payload: exit 3, nothing compared.
  std::string payload;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.file("exports"))) {
    if (entry.path().string().ends_with(".pgss.zst")) payload = entry.path().string();
  }
  REQUIRE_FALSE(payload.empty());
  std::string bytes = slip::test::read_file(payload);
  bytes[bytes.size() / 2] ^= 0x20;
  slip::test::write_file(payload, bytes);
  auto damaged = run_slip({"diff", location, fold});
  CHECK(damaged.exit_code == ec::kDamaged);
  CHECK(damaged.out.empty());
  check_one_line_error(damaged);
}
