// `slip export`, `slip export ls` and `slip import` against a real
// nats-server and a file:// location: round trips into both backends, the
// mirror resuming after an import with the delta only, damage, the
// pointer under racing exporters, leases, pruning, restoring a bucket.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "fold/lock.h"
#include "slip/exit_codes.h"
#include "slip/fold.h"
#include "slip/lease.h"
#include "slip/nats.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::fold_model;
using slip::test::NatsServer;
using slip::test::put_value;
using slip::test::run_slip;
using slip::test::TempDir;
namespace ec = slip::exit_code;
using Model = std::map<std::string, std::string>;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<slip::kv::Client> client_for(const NatsServer& server) {
  slip::nats::ConnectOptions o;
  o.servers = {server.url()};
  auto c = slip::nats::connect(o);
  REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  return std::move(*c);
}

std::unique_ptr<slip::kv::Bucket> bucket_of(slip::kv::Client& client, const std::string& name) {
  auto b = client.open_bucket(name);
  if (!b && b.status().kind() == slip::StatusKind::kNotFound) {
    slip::kv::BucketConfig config;
    config.name = name;
    config.history = 5;
    b = client.create_bucket(config);
  }
  REQUIRE_MESSAGE(b.is_ok(), b.status().to_string());
  return std::move(*b);
}

Model bucket_contents(slip::kv::Bucket& bucket) {
  Model m;
  REQUIRE(bucket
              .scan({}, true,
                    [&](const slip::kv::Entry& e) {
                      m[e.key] = e.value;
                      return true;
                    })
              .is_ok());
  return m;
}

std::string json_record(int i) {
  return "{\"id\":" + std::to_string(i) + ",\"host\":\"node-" + std::to_string(i % 17) +
         ".example.net\",\"weight\":" + std::to_string(i * 7 % 100) + "}";
}

// Fills bucket cfg with N keys, some rewritten and some deleted.
Model fill(slip::kv::Bucket& b, int n, int start = 0) {
  for (int i = start; i < start + n; ++i) {
    REQUIRE(b.put("node." + std::to_string(i % 40), json_record(i)).is_ok());
  }
  return bucket_contents(b);
}

std::uint64_t mirror_once(const NatsServer& server, const std::string& bucket,
                          const std::string& path, std::string* err = nullptr) {
  auto r = run_slip({"mirror", bucket, "--to", path, "--once", "-s", server.url()});
  REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
  if (err) *err = r.err;
  std::uint64_t cursor = 0;
  fold_model(path, &cursor);
  return cursor;
}

nlohmann::json export_json(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"export", "--json"};
  all.insert(all.end(), args.begin(), args.end());
  auto r = run_slip(all);
  REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
  return nlohmann::json::parse(r.out);
}

nlohmann::json pointer(const std::string& dir, const std::string& bucket) {
  return nlohmann::json::parse(slip::test::read_file(dir + "/" + bucket + "/pointer.json"));
}

std::vector<std::string> files_under(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (p.size() >= suffix.size() &&
        p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(p);
  }
  return out;
}

// A nats-server with an empty bucket "cfg" (history 5) and a temporary
// directory: what most tests here start from.
struct CfgBucket {
  NatsServer server;
  std::unique_ptr<slip::kv::Client> client = client_for(server);
  std::unique_ptr<slip::kv::Bucket> cfg = bucket_of(*client, "cfg");
  TempDir tmp;
};

}  // namespace

TEST_CASE_FIXTURE(
    CfgBucket,
    "export: round trip through file:// into both backends; mirror resumes with the delta") {
  fill(*cfg, 120);
  REQUIRE(cfg->del("node.3", std::nullopt).is_ok());
  REQUIRE(cfg->purge("node.4").is_ok());
  const Model at_export = bucket_contents(*cfg);
  const std::uint64_t cursor = mirror_once(server, "cfg", tmp.file("fold.snap"));
  const std::string loc = "file://" + tmp.file("exports");

  auto j = export_json({"--from", tmp.file("fold.snap"), "--bucket", "cfg", "--to", loc});
  CHECK(j["cursor"] == cursor);
  CHECK(j["entries"] == at_export.size());
  CHECK(j["reused"] == false);
  CHECK(j["previous_cursor"].is_null());
  CHECK(pointer(tmp.file("exports"), "cfg")["id"] == j["id"]);

  // The decompressed payload is a snapshot the snapshot tools accept.
  auto payloads = files_under(tmp.file("exports"), ".pgss.zst");
  REQUIRE(payloads.size() == 1);

  // Seven updates after the export: 5 puts, 1 delete, 1 put of a new key.
  for (int i = 0; i < 5; ++i) REQUIRE(cfg->put("node." + std::to_string(i + 10), "after").is_ok());
  REQUIRE(cfg->del("node.20", std::nullopt).is_ok());
  REQUIRE(cfg->put("fresh", "x").is_ok());

  std::vector<std::string> dumps;
  for (std::string backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string dst = tmp.file("imported-" + backend);
    auto r = run_slip({"import", loc, "--to", dst, "--backend", backend});
    REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
    CHECK(r.out.find("imported cfg artifact") != std::string::npos);
    std::uint64_t got_cursor = 0;
    CHECK(fold_model(dst, &got_cursor) == at_export);
    CHECK(got_cursor == cursor);
    // The LevelDB dump has no byte offsets; the rest must be identical.
    dumps.push_back(std::regex_replace(run_slip({"snapshot", "dump", dst}).out,
                                       std::regex("\"offset\":[0-9]+,"), ""));
    auto verify = run_slip({"snapshot", "verify", dst});
    CHECK_MESSAGE(verify.exit_code == ec::kOk, verify.err);
    // A second import to the same place needs --force.
    auto again = run_slip({"import", loc, "--to", dst});
    CHECK(again.exit_code == ec::kUsage);
    CHECK(again.err.find("--force") != std::string::npos);

    std::string err;
    mirror_once(server, "cfg", dst, &err);
    CHECK_MESSAGE(err.find("applied 7 updates") != std::string::npos, err);
    CHECK(fold_model(dst) == bucket_contents(*cfg));
  }
  // Log and LevelDB imports dump the same.
  REQUIRE(dumps.size() == 2);
  CHECK(dumps[0].find("\"type\":\"cursor\"") != std::string::npos);
  CHECK(dumps[0] == dumps[1]);
}

TEST_CASE(
    "export: a log fold is streamed from its file: the mirror's and its compacted copy agree" * doctest::test_suite("nats")) {
  NatsServer server;
  auto client = client_for(server);
  auto cfg = bucket_of(*client, "cfg");
  fill(*cfg, 60);
  REQUIRE(cfg->del("node.3", std::nullopt).is_ok());
  TempDir tmp;
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  const std::string loc = "file://" + tmp.file("exports");
  // The mirror's fold is not canonical (cursor records between batches):
  // its commits are merged into the stream.
  auto first = export_json({"--from", tmp.file("fold.snap"), "--to", loc});
  // The payload was staged beside the artifacts and renamed into place.
  CHECK(std::filesystem::is_empty(tmp.file("exports/.slip-tmp.staging")));
  // Its compacted copy is canonical: exported as its bytes, which must be
  // exactly the payload the merge wrote (same id, so "reused").
  auto compact = run_slip({"snapshot", "compact", tmp.file("fold.snap"), "-o", tmp.file("c.snap")});
  REQUIRE_MESSAGE(compact.exit_code == 0, compact.err);
  auto second = export_json({"--from", tmp.file("c.snap"), "--bucket", "cfg", "--to", loc});
  CHECK(second["id"] == first["id"]);
  CHECK(second["reused"] == true);
  // And it imports back to the same bytes.
  REQUIRE(run_slip({"import", loc, "--to", tmp.file("back.snap")}).exit_code == ec::kOk);
  CHECK(slip::test::read_file(tmp.file("back.snap")) == slip::test::read_file(tmp.file("c.snap")));
  // A torn tail (a crash mid-append) is the store's to repair: exported
  // through it, as of the last complete commit.
  const std::string whole = slip::test::read_file(tmp.file("fold.snap"));
  slip::test::write_file(tmp.file("torn.snap"), whole + whole.substr(6, 10));
  auto torn = export_json(
      {"--from", tmp.file("torn.snap"), "--bucket", "cfg", "--to", "file://" + tmp.file("t")});
  CHECK(torn["id"] == first["id"]);
  CHECK(slip::test::read_file(tmp.file("torn.snap")) == whole);  // repaired
  // A canonical fold of another bucket is refused like any other.
  slip::test::write_file(tmp.file("c.snap.origin"), R"({"bucket":"other","prefixes":[]})");
  auto wrong = run_slip({"export", "--from", tmp.file("c.snap"), "--bucket", "cfg", "--to", loc});
  CHECK(wrong.exit_code == ec::kUsage);
  CHECK(wrong.err.find("is a fold of bucket other") != std::string::npos);
}

TEST_CASE_FIXTURE(CfgBucket,
                  "export: a fold in use by another process is refused (exit 4), either backend" * doctest::test_suite("nats")) {
  fill(*cfg, 20);
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string path = tmp.file(std::string("fold-") + backend);
    const std::string to = tmp.file(std::string("to-") + backend);
    auto r = run_slip(
        {"mirror", "cfg", "--to", path, "--backend", backend, "--once", "-s", server.url()});
    REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
    {
      // What a running mirror holds.
      auto held = slip::fold::FileLock::acquire_fold(path, backend);
      REQUIRE(held.is_ok());
      auto busy = run_slip({"export", "--from", path, "--to", "file://" + to});
      CHECK(busy.exit_code == ec::kUnavailable);
      CHECK(busy.err.find("in use by another slip process") != std::string::npos);
      CHECK_FALSE(std::filesystem::exists(to + "/cfg"));
    }
    auto free = run_slip({"export", "--from", path, "--to", "file://" + to});
    CHECK_MESSAGE(free.exit_code == ec::kOk, free.err);
  }
}

TEST_CASE_FIXTURE(CfgBucket,
                  "export: file:// objects are created under the umask, the payload too" * doctest::test_suite("nats")) {
  fill(*cfg, 20);
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  const mode_t before = ::umask(077);  // inherited by the slip run below
  auto r = run_slip({"export", "--from", tmp.file("fold.snap"), "--to", "file://" + tmp.file("x")});
  ::umask(before);
  REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
  const auto payloads = files_under(tmp.file("x"), ".pgss.zst");
  const auto manifests = files_under(tmp.file("x/cfg/artifacts"), ".json");
  REQUIRE(payloads.size() == 1);
  REQUIRE(manifests.size() == 1);
  for (const std::string& f : {payloads[0], manifests[0], tmp.file("x/cfg/pointer.json")}) {
    CAPTURE(f);
    struct stat st;
    REQUIRE(::stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("export: straight from a live bucket, with the bucket's cursor" * doctest::test_suite("nats")) {
  NatsServer server;
  auto client = client_for(server);
  auto cfg = bucket_of(*client, "live");
  const Model data = fill(*cfg, 60);
  auto status = cfg->status();
  REQUIRE(status.is_ok());
  TempDir tmp;
  const std::string loc = tmp.file("exports");  // a bare path
  auto j = export_json({"--bucket", "live", "--to", loc, "-s", server.url()});
  CHECK(j["cursor"] == status->last_sequence);
  CHECK(j["entries"] == data.size());
  REQUIRE(run_slip({"import", loc, "--to", tmp.file("f")}).exit_code == ec::kOk);
  CHECK(fold_model(tmp.file("f")) == data);
  std::string err;
  mirror_once(server, "live", tmp.file("f"), &err);
  CHECK_MESSAGE(err.find("applied 0 updates") != std::string::npos, err);
}

TEST_CASE_FIXTURE(
    CfgBucket,
    "import: a flipped byte in the payload or the manifest is exit 3 and leaves nothing" * doctest::test_suite("nats")) {
  fill(*cfg, 200);
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  const std::string dir = tmp.file("exports");
  export_json({"--from", tmp.file("fold.snap"), "--bucket", "cfg", "--to", dir});
  auto payloads = files_under(dir, ".pgss.zst");
  REQUIRE(payloads.size() == 1);
  const std::string manifest_path = payloads[0].substr(0, payloads[0].size() - 9) + ".json";
  const std::string pointer_path = dir + "/cfg/pointer.json";

  auto flip = [](const std::string& path, std::size_t at) {
    std::string data = slip::test::read_file(path);
    REQUIRE(at < data.size());
    data[at] = static_cast<char>(data[at] ^ 0x04);
    slip::test::write_file(path, data);
  };
  const std::string payload = slip::test::read_file(payloads[0]);
  const std::string manifest = slip::test::read_file(manifest_path);
  const std::string ptr = slip::test::read_file(pointer_path);
  struct Case {
    std::string name, path;
    std::size_t at;
    std::vector<std::string> extra;
  };
  const std::string id = nlohmann::json::parse(manifest)["id"];
  for (const Case& c :
       {Case{"payload middle", payloads[0], payload.size() / 2, {}},
        Case{"payload end", payloads[0], payload.size() - 2, {}},
        Case{"pointer", pointer_path, ptr.find("entries") + 10, {}},
        Case{"manifest", manifest_path, manifest.find("created") + 12, {"--artifact", id}}}) {
    CAPTURE(c.name);
    flip(c.path, c.at);
    for (std::string backend : {"log", "leveldb"}) {
      std::vector<std::string> args = {"import",        dir,         "--to",
                                       tmp.file("dst"), "--backend", backend};
      args.insert(args.end(), c.extra.begin(), c.extra.end());
      auto r = run_slip(args);
      CHECK(r.exit_code == ec::kDamaged);
      CHECK(r.err.rfind("slip: error: ", 0) == 0);
      CHECK_FALSE(slip::test::file_exists(tmp.file("dst")));
    }
    flip(c.path, c.at);
  }
  // Nothing is left beside the destination, and the undamaged artifact imports.
  CHECK(files_under(tmp.path(), ".snap").size() == 1);  // fold.snap only
  CHECK(run_slip({"import", dir, "--to", tmp.file("dst")}).exit_code == ec::kOk);
}

TEST_CASE_FIXTURE(
    CfgBucket,
    "export: superseded exports are refused and racing exporters never regress the pointer" * doctest::test_suite("nats")) {
  fill(*cfg, 50);
  const std::uint64_t old_cursor = mirror_once(server, "cfg", tmp.file("old.snap"));
  fill(*cfg, 50, 1000);
  const std::uint64_t new_cursor = mirror_once(server, "cfg", tmp.file("new.snap"));
  REQUIRE(new_cursor > old_cursor);

  const std::string dir = tmp.file("exports");
  export_json({"--from", tmp.file("new.snap"), "--bucket", "cfg", "--to", dir});
  const std::string before = slip::test::read_file(dir + "/cfg/pointer.json");
  auto refused =
      run_slip({"export", "--from", tmp.file("old.snap"), "--bucket", "cfg", "--to", dir});
  CHECK(refused.exit_code == ec::kNegative);
  CHECK(refused.err.find("superseded") != std::string::npos);
  CHECK(slip::test::read_file(dir + "/cfg/pointer.json") == before);

  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    const std::string race = tmp.file("race" + std::to_string(round));
    slip::test::ProcessResult a, b;
    std::thread ta([&] {
      a = run_slip({"export", "--from", tmp.file("old.snap"), "--bucket", "cfg", "--to", race});
    });
    std::thread tb([&] {
      b = run_slip({"export", "--from", tmp.file("new.snap"), "--bucket", "cfg", "--to", race});
    });
    ta.join();
    tb.join();
    CHECK_MESSAGE(b.exit_code == ec::kOk, b.err);
    CHECK((a.exit_code == ec::kOk || a.err.find("superseded") != std::string::npos));
    CHECK(pointer(race, "cfg")["cursor"] == new_cursor);
  }
}

TEST_CASE_FIXTURE(CfgBucket,
                  "export: --keep prunes, export ls lists, import --artifact picks an older one" * doctest::test_suite("nats")) {
  const std::string dir = tmp.file("exports");
  std::vector<std::string> ids;
  std::vector<std::uint64_t> cursors;
  for (int i = 0; i < 3; ++i) {
    fill(*cfg, 10, i * 100);
    cursors.push_back(mirror_once(server, "cfg", tmp.file("fold.snap")));
    auto j = export_json({"--from", tmp.file("fold.snap"), "--bucket", "cfg", "--to", dir});
    ids.push_back(j["id"]);
  }
  auto ls = run_slip({"export", "ls", dir, "--json"});
  REQUIRE_MESSAGE(ls.exit_code == ec::kOk, ls.err);
  std::vector<nlohmann::json> lines;
  std::istringstream in(ls.out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i]["id"] == ids[i]);
    CHECK(lines[i]["cursor"] == cursors[i]);
    CHECK(lines[i]["bucket"] == "cfg");
    CHECK(lines[i]["current"] == (i == 2));
    CHECK(lines[i]["compressed_size"].get<std::uint64_t>() > 0);
    CHECK(lines[i]["created"].get<std::string>().back() == 'Z');
  }
  auto text = run_slip({"export", "ls", dir});
  CHECK(text.out.find("* cfg  " + ids[2]) != std::string::npos);

  auto old = run_slip({"import", dir, "--artifact", ids[0], "--to", tmp.file("old.snap")});
  REQUIRE_MESSAGE(old.exit_code == ec::kOk, old.err);
  std::uint64_t c = 0;
  fold_model(tmp.file("old.snap"), &c);
  CHECK(c == cursors[0]);

  // A fourth export with --keep 2 --grace 0: the two oldest go.
  fill(*cfg, 10, 900);
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  auto j = export_json({"--from", tmp.file("fold.snap"), "--bucket", "cfg", "--to", dir, "--keep",
                        "2", "--grace", "0"});
  CHECK(j["pruned"].size() == 2);
  CHECK(files_under(dir, ".pgss.zst").size() == 2);
  auto missing = run_slip({"import", dir, "--artifact", ids[0], "--to", tmp.file("x")});
  CHECK(missing.exit_code == ec::kNegative);
  CHECK(run_slip({"export", "ls", dir, "--bucket", "nope"}).exit_code == ec::kNegative);
}

TEST_CASE_FIXTURE(
    CfgBucket, "export: --lease: one holder at a time, takeover of expired or unreadable leases" * doctest::test_suite("nats")) {
  auto locks = bucket_of(*client, "locks");
  fill(*cfg, 20);
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  const std::string dir = tmp.file("exports");
  const std::vector<std::string> base = {
      "export", "--from",  tmp.file("fold.snap"), "--bucket", "cfg",       "--to",
      dir,      "--lease", "locks/export-cfg",    "-s",       server.url()};
  auto with_ttl = [&](const std::string& ttl) {
    auto args = base;
    args.push_back("--lease-ttl");
    args.push_back(ttl);
    return run_slip(args);
  };
  auto first = with_ttl("1h");
  REQUIRE_MESSAGE(first.exit_code == ec::kOk, first.err);
  auto lease = locks->get("export-cfg");
  REQUIRE(lease.is_ok());
  auto value = nlohmann::json::parse(lease->value);
  CHECK(value["exported_cursor"] == pointer(dir, "cfg")["cursor"]);
  CHECK(value["holder"].get<std::string>().find(':') != std::string::npos);

  // Held for the TTL: the next node skips this period.
  auto second = with_ttl("1h");
  CHECK(second.exit_code == ec::kNegative);
  CHECK(second.err.find("held by") != std::string::npos);

  // Expired, then unreadable: taken over.
  REQUIRE(locks->put("export-cfg", R"({"holder":"gone:1","expires_ns":1})").is_ok());
  auto third = with_ttl("1h");
  CHECK_MESSAGE(third.exit_code == ec::kOk, third.err);
  REQUIRE(locks->put("export-cfg", "not json").is_ok());
  auto fourth = with_ttl("1h");
  CHECK_MESSAGE(fourth.exit_code == ec::kOk, fourth.err);

  // A failed export releases the lease at once.
  REQUIRE(locks->del("export-cfg", std::nullopt).is_ok());
  auto args = base;
  args[2] = tmp.file("no-such-fold");
  args.push_back("--lease-ttl");
  args.push_back("1h");
  auto failed = run_slip(args);
  CHECK(failed.exit_code == ec::kUsage);
  CHECK(locks->get("export-cfg").status().kind() == slip::StatusKind::kNotFound);
}

TEST_CASE("lease: a holder taken over after expiry notices before publishing" * doctest::test_suite("nats")) {
  NatsServer server;
  auto client = client_for(server);
  auto locks = bucket_of(*client, "locks");
  auto a = slip::lease::Lease::acquire(*locks, "job", 20ms, "a:1");
  REQUIRE(a.is_ok());
  CHECK((*a)->check().is_ok());
  // The event awaited is the lease's expiry time passing.
  const std::int64_t expires = (*a)->expires_ns();
  REQUIRE(slip::test::wait_until(
      [&] {
        return std::chrono::system_clock::now().time_since_epoch() >
               std::chrono::nanoseconds(expires);
      },
      5s));
  CHECK((*a)->check().kind() == slip::StatusKind::kConflict);  // expired already
  auto b = slip::lease::Lease::acquire(*locks, "job", 1h, "b:2");
  REQUIRE_MESSAGE(b.is_ok(), b.status().to_string());
  CHECK((*b)->check().is_ok());
  slip::Status lost = (*a)->check();
  CHECK(lost.kind() == slip::StatusKind::kConflict);
  CHECK(lost.message().find("taken over by b:2") != std::string::npos);
  CHECK((*a)->complete(5).kind() == slip::StatusKind::kConflict);
  CHECK((*a)->release().kind() == slip::StatusKind::kConflict);
  auto c = slip::lease::Lease::acquire(*locks, "job", 1h, "c:3");
  CHECK(c.status().kind() == slip::StatusKind::kConflict);
  CHECK(c.status().message().find("held by b:2") != std::string::npos);
  REQUIRE((*b)->release().is_ok());
  CHECK(slip::lease::Lease::acquire(*locks, "job", 1h, "c:3").is_ok());
}

TEST_CASE_FIXTURE(CfgBucket,
                  "import: --to-bucket restores every key, and a second run writes nothing" * doctest::test_suite("nats")) {
  const Model data = fill(*cfg, 80);
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  const std::string dir = tmp.file("exports");
  export_json({"--from", tmp.file("fold.snap"), "--bucket", "cfg", "--to", dir});

  auto missing = run_slip({"import", dir, "--to-bucket", "restored", "-s", server.url()});
  CHECK(missing.exit_code == ec::kNegative);
  CHECK(missing.err.find("--create") != std::string::npos);

  auto r = run_slip({"import", dir, "--to-bucket", "restored", "--create", "-s", server.url()});
  REQUIRE_MESSAGE(r.exit_code == ec::kOk, r.err);
  CHECK(r.out.find(std::to_string(data.size()) + " written, 0 already current") !=
        std::string::npos);
  auto restored = bucket_of(*client, "restored");
  CHECK(bucket_contents(*restored) == data);

  // Resumable: a partly restored bucket gets only what it lacks.
  REQUIRE(restored->put("node.1", "changed").is_ok());
  REQUIRE(restored->del("node.2", std::nullopt).is_ok());
  auto again = run_slip({"import", dir, "--to-bucket", "restored", "-s", server.url()});
  REQUIRE_MESSAGE(again.exit_code == ec::kOk, again.err);
  CHECK(again.out.find("2 written, " + std::to_string(data.size() - 2) + " already current") !=
        std::string::npos);
  CHECK(bucket_contents(*restored) == data);
}

TEST_CASE_FIXTURE(CfgBucket,
                  "export: the manifest records the bucket's stream; an import of it resyncs "
                  "against a bucket deleted and created again" * doctest::test_suite("nats")) {
  fill(*cfg, 40);
  auto st = cfg->status();
  REQUIRE(st.is_ok());
  const std::int64_t created = st->created_ns;
  REQUIRE(created > 0);
  const std::string loc = "file://" + tmp.file("exports");
  mirror_once(server, "cfg", tmp.file("fold.snap"));
  // From a fold (its origin) and straight from the bucket: both record it.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--from", tmp.file("fold.snap"), "--to", loc},
           {"--bucket", "cfg", "--to", "file://" + tmp.file("live"), "-s", server.url()}}) {
    auto j = export_json(args);
    const std::string dir = args[3].substr(std::string("file://").size());
    auto manifest = nlohmann::json::parse(slip::test::read_file(
        dir + "/cfg/artifacts/" + j["id"].get<std::string>() + ".json"));
    CHECK(manifest["schema_version"] == 2);
    CHECK(manifest["stream_created_ns"] == created);
  }
  for (const char* backend : {"log", "leveldb"}) {
    REQUIRE(run_slip({"import", loc, "--to", tmp.file(std::string("imp-") + backend), "--backend",
                      backend})
                .exit_code == ec::kOk);
  }
  // The bucket is deleted and created again, and written past the old
  // cursor: sequences alone would resume the imported folds into it.
  REQUIRE(client->delete_bucket("cfg").is_ok());
  cfg = bucket_of(*client, "cfg");
  for (int i = 0; i < 60; ++i) REQUIRE(cfg->put("new." + std::to_string(i), "v").is_ok());
  const Model now = bucket_contents(*cfg);
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string path = tmp.file(std::string("imp-") + backend);
    std::string err;
    mirror_once(server, "cfg", path, &err);
    CHECK_MESSAGE(err.find("deleted and created again") != std::string::npos, err);
    CHECK(fold_model(path) == now);
  }
}
