// The fold against the truth: after each way the server removes data
// (limit markers, per-message TTLs, max_age, the purge API, the
// message-delete API), the fold of `slip mirror` (resumed with --once after
// the removal, and kept by a running mirror) must equal what an independent
// client reads from the raw stream (support/raw_stream.h: plain JetStream
// API requests, no slip library code), and so must `slip kv get`, `kv keys`
// and `kv history`. Each scenario runs its lanes (backend x mode) side by
// side on buckets of their own, so that one wait for the server covers all.
#include <doctest/doctest.h>
#include <signal.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "slip/exit_codes.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/metrics.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/raw_stream.h"

using slip::test::BackgroundProcess;
using slip::test::fold_model;
using slip::test::NatsServer;
using slip::test::RawStream;
using slip::test::RawStreamConfig;
using slip::test::run_slip;
using slip::test::wait_until;
namespace ec = slip::exit_code;
using namespace std::chrono_literals;
using Model = std::map<std::string, std::string>;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// One fold of one bucket: a backend, and either `--once` runs (before the
// removal, and resumed after it) or a mirror running throughout.
struct Lane {
  std::string backend;
  bool running = false;
  std::string bucket;
  std::string path;
  std::string log;  // the daemon's stdout; stderr is log + ".err"
  std::unique_ptr<BackgroundProcess> daemon;
  int metrics_port = 0;
  double reconciles_before = 0;

  std::string name() const { return bucket; }
};

class Scenario {
 public:
  // Lanes for both backends, in --once and running mode; buckets PREFIX_...
  Scenario(NatsServer& server, const std::string& prefix, std::vector<std::string> variants = {""})
      : server_(server) {
    for (const auto& variant : variants) {
      for (const char* backend : {"log", "leveldb"}) {
        for (bool running : {false, true}) {
          Lane lane;
          lane.backend = backend;
          lane.running = running;
          lane.bucket = prefix + variant + "_" + backend + (running ? "_run" : "_once");
          lane.path = dir_.file(lane.bucket + (lane.backend == "log" ? ".snap" : ".ldb"));
          lane.log = dir_.file(lane.bucket + ".log");
          lanes_.push_back(std::move(lane));
        }
      }
    }
  }
  ~Scenario() {
    for (auto& lane : lanes_) {
      if (lane.daemon) lane.daemon->stop(SIGKILL);
    }
  }

  std::vector<Lane>& lanes() { return lanes_; }
  const slip::test::TempDir& dir() const { return dir_; }
  RawStream& raw(const Lane& lane) {
    auto& r = raw_[lane.bucket];
    if (!r) r = std::make_unique<RawStream>(server_.url(), lane.bucket);
    return *r;
  }

  // Starts a running lane's mirror (ARGS added) and waits until it
  // watches the bucket.
  void start_daemon(Lane& lane, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SLIP_BINARY,   "mirror",    lane.bucket,  "--to",
                                     lane.path,     "--backend", lane.backend, "--metrics",
                                     "127.0.0.1:0", "-s",        server_.url()};
    argv.insert(argv.end(), args.begin(), args.end());
    lane.daemon = std::make_unique<BackgroundProcess>(argv, lane.log);
    const std::string err = lane.log + ".err";
    lane.metrics_port = slip::test::metrics_port(err, 10s);
    REQUIRE_MESSAGE(lane.metrics_port != 0, slip::test::read_file(err));
    REQUIRE_MESSAGE(wait_until([&] { return metric(lane, "slip_mirror_stream_up") == 1; }, 10s),
                    slip::test::read_file(err));
  }

  double metric(const Lane& lane, const std::string& name) {
    return slip::test::metric_now(lane.metrics_port, name);
  }

  // A --once lane's first fold (ARGS added); it must hold EXPECTED.
  void first_fold(Lane& lane, const std::vector<std::string>& args, const Model& expected) {
    std::vector<std::string> argv = {"mirror",     lane.bucket, "--to", lane.path,    "--backend",
                                     lane.backend, "--once",    "-s",   server_.url()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_slip(argv);
    REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
    REQUIRE_MESSAGE(fold_model(lane.path) == expected,
                    "the first fold of " << lane.bucket << " came too late: raise the TTLs");
  }

  // Waits until the raw truth of LANE's bucket is EXPECTED (the server has
  // done its removal).
  void await_truth(Lane& lane, const Model& expected, std::chrono::milliseconds timeout = 15s) {
    Model got;
    const bool ok = wait_until(
        [&] {
          got = raw(lane).truth();
          return got == expected;
        },
        timeout);
    REQUIRE_MESSAGE(ok, lane.bucket << ": the server did not get to the expected state; truth "
                                    << nlohmann::json(got).dump() << " expected "
                                    << nlohmann::json(expected).dump());
  }

  // After the removal: a --once lane resumes (ARGS added); a running lane's
  // mirror is awaited until it has applied the stream's last sequence and,
  // when RECONCILES, completed two more reconciles (the second one surely
  // started after the removal), then stopped.
  void converge(Lane& lane, const std::vector<std::string>& once_args, bool reconciles) {
    if (!lane.running) {
      std::vector<std::string> argv = {"mirror", lane.bucket, "--to",       lane.path,
                                       "--once", "-s",        server_.url()};
      argv.insert(argv.end(), once_args.begin(), once_args.end());
      auto r = run_slip(argv);
      CHECK_MESSAGE(r.exit_code == ec::kOk, r.err);
      return;
    }
    const auto last_seq = raw(lane).state().value("last_seq", std::uint64_t{0});
    const double base = metric(lane, "slip_mirror_reconciles_total");
    const bool done = wait_until(
        [&] {
          if (metric(lane, "slip_mirror_cursor_revision") < static_cast<double>(last_seq))
            return false;
          return !reconciles || metric(lane, "slip_mirror_reconciles_total") >= base + 2;
        },
        20s);
    CHECK_MESSAGE(done, lane.bucket << ": the running mirror did not get to sequence " << last_seq
                                    << (reconciles ? " and two more reconciles" : "") << "\n"
                                    << slip::test::read_file(lane.log + ".err"));
    CHECK(lane.daemon->stop(SIGTERM) == ec::kOk);
    lane.daemon.reset();
  }

  // The fold and slip's kv commands agree with the raw truth, for every key
  // in KEYS (those the scenario wrote) and every key the truth has.
  void check_agreement(Lane& lane, const std::set<std::string>& keys) {
    CAPTURE(lane.bucket);
    const Model truth = raw(lane).truth();
    const Model fold = fold_model(lane.path);
    CHECK_MESSAGE(fold == truth, "fold " << nlohmann::json(fold).dump() << "\ntruth "
                                         << nlohmann::json(truth).dump());

    auto listed = run_slip({"kv", "keys", lane.bucket, "-s", server_.url()});
    CHECK_MESSAGE(listed.exit_code == ec::kOk, listed.err);
    const auto listed_lines = lines_of(listed.out);
    std::set<std::string> truth_keys;
    for (const auto& [k, v] : truth) truth_keys.insert(k);
    CHECK_MESSAGE(std::set<std::string>(listed_lines.begin(), listed_lines.end()) == truth_keys,
                  "kv keys " << nlohmann::json(listed_lines).dump() << "\ntruth "
                             << nlohmann::json(truth_keys).dump());

    std::set<std::string> all = keys;
    all.insert(truth_keys.begin(), truth_keys.end());
    for (const auto& key : all) {
      CAPTURE(key);
      const auto it = truth.find(key);
      auto get = run_slip({"kv", "get", lane.bucket, key, "-s", server_.url()});
      auto history = run_slip({"kv", "history", lane.bucket, key, "-s", server_.url()});
      const auto entries = lines_of(history.out);
      if (it != truth.end()) {
        CHECK_MESSAGE(get.exit_code == ec::kOk, get.err);
        CHECK(get.out == it->second);
        REQUIRE_MESSAGE(history.exit_code == ec::kOk, history.err);
        REQUIRE(!entries.empty());
        auto last = nlohmann::json::parse(entries.back());
        CHECK(last["op"] == "PUT");
        CHECK(last.value("value", std::string()) == it->second);
      } else {
        CHECK_MESSAGE(get.exit_code == ec::kNegative, get.out << get.err);
        // Gone: either nothing is held any more, or the last revision held
        // is a tombstone (a delete, a purge or a server's marker).
        if (history.exit_code == ec::kNegative) continue;
        REQUIRE_MESSAGE(history.exit_code == ec::kOk, history.err);
        REQUIRE(!entries.empty());
        auto last = nlohmann::json::parse(entries.back());
        CHECK_MESSAGE((last["op"] == "DEL" || last["op"] == "PURGE"), entries.back());
      }
    }
  }

  // Scenario f: the fold exported and imported into a new bucket leaves
  // that bucket's raw truth equal to the fold (no ghost key).
  void check_export_import(Lane& lane) {
    CAPTURE(lane.bucket);
    const std::string where = "file://" + dir_.file("export." + lane.bucket);
    auto ex = run_slip({"export", "--from", lane.path, "--to", where});
    REQUIRE_MESSAGE(ex.exit_code == ec::kOk, ex.err);
    const std::string restored = lane.bucket + "_restored";
    auto im = run_slip({"import", where, "--to-bucket", restored, "--create", "-s", server_.url()});
    REQUIRE_MESSAGE(im.exit_code == ec::kOk, im.err);
    RawStream raw(server_.url(), restored);
    const Model truth = raw.truth(), fold = fold_model(lane.path);
    CHECK_MESSAGE(truth == fold, "restored " << nlohmann::json(truth).dump() << "\nfold "
                                             << nlohmann::json(fold).dump());
  }

 private:
  NatsServer& server_;
  slip::test::TempDir dir_;
  std::vector<Lane> lanes_;
  std::map<std::string, std::unique_ptr<RawStream>> raw_;
};

std::set<std::string> keys_of(const std::vector<std::string>& groups, int n) {
  std::set<std::string> out;
  for (const auto& g : groups) {
    for (int i = 0; i < n; ++i) out.insert(g + "." + std::to_string(i));
  }
  return out;
}

}  // namespace

// a. max_age expiry with limit markers: a key that ages out gets a marker
// (empty body, Nats-Marker-Reason: MaxAge, no KV-Operation), which itself
// expires after the marker TTL. Keys published with `Nats-TTL: never` stay.
TEST_CASE("truth: limit markers on max_age expiry, under a running mirror and while stopped" *
          doctest::test_suite("nats")) {
  if (!slip::test::server_has(2, 11, "limit markers (subject_delete_marker_ttl)")) return;
  NatsServer server;
  // A third --once lane resumes only after the markers themselves expired.
  Scenario s(server, "a");
  RawStreamConfig config;
  config.max_age = 2s;  // a margin for the first fold; the marker TTL stays below it
  config.allow_msg_ttl = true;
  config.marker_ttl = 1s;
  const auto keys = keys_of({"aged", "keep"}, 5);
  Model all, kept;
  for (const auto& k : keys) {
    all[k] = "v-" + k;
    if (k.rfind("keep.", 0) == 0) kept[k] = "v-" + k;
  }
  auto publish = [&](Lane& lane) {
    for (const auto& [k, v] : all)
      s.raw(lane).publish(k, v, k.rfind("keep.", 0) == 0 ? "never" : "");
  };
  for (auto& lane : s.lanes()) {
    s.raw(lane).create(config);
    if (lane.running) {
      // Markers alone, no reconcile, keep the running fold right.
      s.start_daemon(lane, {"--reconcile-every", "0"});
      publish(lane);
    } else {
      publish(lane);
      s.first_fold(lane, {}, all);
    }
  }
  for (auto& lane : s.lanes()) s.await_truth(lane, kept);
  for (auto& lane : s.lanes()) {
    // The markers are there now (the resume reads them).
    s.converge(lane, {}, false);
    s.check_agreement(lane, keys);
  }
  // Stopped for longer than the marker TTL: the markers are gone as well
  // when the mirror resumes, so only the start's reconcile can tell.
  for (auto& lane : s.lanes()) {
    if (lane.running) continue;
    CHECK(run_slip({"kv", "put", lane.bucket, "aged.0", "-s", server.url()}, "again").exit_code ==
          0);
    auto r = run_slip({"mirror", lane.bucket, "--to", lane.path, "--once", "-s", server.url()});
    CHECK_MESSAGE(r.exit_code == ec::kOk, r.err);
    CHECK(fold_model(lane.path).count("aged.0") == 1);
  }
  for (auto& lane : s.lanes()) {
    if (lane.running) continue;
    s.await_truth(lane, kept);
    REQUIRE(wait_until([&] { return s.raw(lane).subjects().size() == kept.size(); }, 15s));
    s.converge(lane, {}, false);
    s.check_agreement(lane, keys);
    s.check_export_import(lane);  // f.
  }
}

// b. Per-message TTLs (Nats-TTL: 1s): a key with older revisions (history 5)
// goes back to the older one, a key without goes away; with and without
// limit markers on the stream.
TEST_CASE("truth: per-message TTL expiry, with older revisions and without, markers or not" *
          doctest::test_suite("nats")) {
  if (!slip::test::server_has(2, 11, "per-message TTLs (allow_msg_ttl)")) return;
  NatsServer server;
  Scenario s(server, "b", {"plain", "markers"});
  const auto keys = keys_of({"older", "single", "kept"}, 4);
  Model before, after;
  for (const auto& k : keys) {
    before[k] = "new-" + k;
    if (k.rfind("older.", 0) == 0) after[k] = "old-" + k;
    if (k.rfind("kept.", 0) == 0) after[k] = "new-" + k;
  }
  auto publish = [&](Lane& lane) {
    for (const auto& k : keys) {
      if (k.rfind("older.", 0) == 0) s.raw(lane).publish(k, "old-" + k);
      s.raw(lane).publish(k, "new-" + k, k.rfind("kept.", 0) == 0 ? "" : "1s");
    }
  };
  for (auto& lane : s.lanes()) {
    RawStreamConfig config;
    config.history = 5;
    config.allow_msg_ttl = true;
    if (lane.bucket.find("markers") != std::string::npos) config.marker_ttl = 1s;
    s.raw(lane).create(config);
    if (lane.running) {
      s.start_daemon(lane, {"--reconcile-every", "1s"});
      publish(lane);
    } else {
      publish(lane);
      s.first_fold(lane, {}, before);
    }
  }
  for (auto& lane : s.lanes()) s.await_truth(lane, after);
  for (auto& lane : s.lanes()) {
    s.converge(lane, {}, true);
    s.check_agreement(lane, keys);
    if (!lane.running) s.check_export_import(lane);  // f.
  }
}

// c. Plain max_age expiry: nothing is written; the resume's reconcile (the
// bucket has max_age) and a running mirror's --reconcile-every find it.
TEST_CASE("truth: max_age expiry without markers" * doctest::test_suite("nats")) {
  NatsServer server;
  Scenario s(server, "c");
  const auto keys = keys_of({"k"}, 10);
  Model all;
  for (const auto& k : keys) all[k] = "v-" + k;
  for (auto& lane : s.lanes()) {
    REQUIRE(run_slip({"kv", "add", lane.bucket, "--max-age", "2s", "-s", server.url()}).exit_code ==
            0);
    if (lane.running) s.start_daemon(lane, {"--reconcile-every", "1s"});
    for (const auto& [k, v] : all) s.raw(lane).publish(k, v);
    if (!lane.running) s.first_fold(lane, {}, all);
  }
  for (auto& lane : s.lanes()) s.await_truth(lane, {});
  for (auto& lane : s.lanes()) {
    s.converge(lane, {}, true);
    s.check_agreement(lane, keys);
  }
}

// d. The stream purge API with a subject filter, by an operator: caught by
// --reconcile at the start, and by --reconcile-every.
TEST_CASE("truth: the stream purge API with a subject filter" * doctest::test_suite("nats")) {
  NatsServer server;
  Scenario s(server, "d");
  const auto keys = keys_of({"purged", "kept"}, 5);
  Model all, after;
  for (const auto& k : keys) {
    all[k] = "v2-" + k;
    if (k.rfind("kept.", 0) == 0) after[k] = "v2-" + k;
  }
  for (auto& lane : s.lanes()) {
    REQUIRE(run_slip({"kv", "add", lane.bucket, "--history", "5", "-s", server.url()}).exit_code ==
            0);
    if (lane.running) s.start_daemon(lane, {"--reconcile-every", "1s"});
    for (const auto& k : keys) {
      s.raw(lane).publish(k, "v1-" + k);
      s.raw(lane).publish(k, "v2-" + k);
    }
    if (!lane.running) s.first_fold(lane, {}, all);
  }
  for (auto& lane : s.lanes()) {
    for (const auto& k : keys) {
      if (k.rfind("purged.", 0) != 0) continue;
      auto reply = s.raw(lane).purge_subject(k);
      REQUIRE_MESSAGE(reply.value("success", false), reply.dump());
    }
    s.await_truth(lane, after);
  }
  for (auto& lane : s.lanes()) {
    s.converge(lane, {"--reconcile"}, true);
    s.check_agreement(lane, keys);
  }
}

// e. The message-delete API on a key's last revision: the revision before
// becomes live again (history 5), a key with one revision goes away, a key
// whose delete marker is deleted comes back.
TEST_CASE("truth: the message-delete API on a key's last revision" * doctest::test_suite("nats")) {
  NatsServer server;
  {
    // A KV stream denies the message-delete API (deny_delete).
    REQUIRE(run_slip({"kv", "add", "kvdeny", "-s", server.url()}).exit_code == 0);
    RawStream raw(server.url(), "kvdeny");
    const auto seq = raw.publish("k", "v");
    auto reply = raw.delete_message(seq);
    CHECK_MESSAGE(reply.contains("error"), reply.dump());
  }
  Scenario s(server, "e");
  // On 2.9.10 a subject whose last message was deleted this way looks
  // empty to the last-message lookups (MSG.GET last_by_subj, and the get
  // `slip kv get` does), even after a restart, although its older
  // revisions are still stored, listed by STREAM.INFO and shown by `kv
  // history`: the server contradicts itself there, so those keys are left
  // out.
  std::vector<std::string> groups = {"single", "kept"};
  if (slip::test::server_has(2, 10,
                             "an older revision uncovered by the message-delete API "
                             "(2.9 loses the subject's last message)")) {
    groups.push_back("older");
    groups.push_back("undeleted");
  }
  const auto keys = keys_of(groups, 4);
  Model all, after;
  for (const auto& k : keys) {
    if (k.rfind("undeleted.", 0) != 0) all[k] = "v2-" + k;
    if (k.rfind("older.", 0) == 0 || k.rfind("undeleted.", 0) == 0) after[k] = "v1-" + k;
    if (k.rfind("kept.", 0) == 0) after[k] = "v2-" + k;
  }
  std::map<std::string, std::vector<std::uint64_t>> doomed;  // bucket -> sequences
  for (auto& lane : s.lanes()) {
    // So the scenario's streams are made as an operator could: a KV
    // stream's configuration, but with deny_delete false.
    RawStreamConfig config;
    config.history = 5;
    config.deny_delete = false;
    s.raw(lane).create(config);
    if (lane.running) s.start_daemon(lane, {"--reconcile-every", "1s"});
    for (const auto& k : keys) {
      if (k.rfind("single.", 0) != 0) s.raw(lane).publish(k, "v1-" + k);
      if (k.rfind("undeleted.", 0) == 0) {
        REQUIRE(run_slip({"kv", "del", lane.bucket, k, "-s", server.url()}).exit_code == 0);
        doomed[lane.bucket].push_back(s.raw(lane).last(k)->seq);
        continue;
      }
      const auto seq = s.raw(lane).publish(k, "v2-" + k);
      if (k.rfind("kept.", 0) != 0) doomed[lane.bucket].push_back(seq);
    }
    if (!lane.running) s.first_fold(lane, {}, all);
  }
  for (auto& lane : s.lanes()) {
    for (auto seq : doomed[lane.bucket]) {
      auto reply = s.raw(lane).delete_message(seq);
      REQUIRE_MESSAGE(reply.value("success", false), reply.dump());
    }
    s.await_truth(lane, after);
  }
  for (auto& lane : s.lanes()) {
    s.converge(lane, {"--reconcile"}, true);
    s.check_agreement(lane, keys);
    if (!lane.running) s.check_export_import(lane);  // f.
  }
}
