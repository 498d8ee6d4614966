// The artifact library against an in-memory location: round trips into
// both fold backends, damage to payload and manifest, the pointer's
// monotonicity under races, reuse and pruning.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include "slip/artifact.h"
#include "slip/fold.h"
#include "slip/snapshot.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/memory_location.h"

using slip::StatusKind;
using slip::VersionToken;
using slip::test::MemoryLocation;
using slip::test::store_model;
using slip::test::TempDir;
namespace artifact = slip::artifact;
namespace fold = slip::fold;
using Model = std::map<std::string, std::string>;

namespace {

#define REQUIRE_OK(expr)                         \
  do {                                           \
    slip::Status s_ = (expr);                    \
    REQUIRE_MESSAGE(s_.is_ok(), s_.to_string()); \
  } while (0)

std::unique_ptr<fold::Store> make_fold(const std::string& path, const Model& data,
                                       std::uint64_t cursor, const std::string& backend = "log") {
  auto store = backend == "log" ? fold::open_log(path, {}) : fold::open_leveldb(path, {});
  REQUIRE_MESSAGE(store.is_ok(), store.status().to_string());
  std::vector<fold::Mutation> batch;
  std::uint64_t rev = 1;
  for (const auto& [k, v] : data)
    batch.push_back({k, v, VersionToken::from_revision(rev++), false});
  REQUIRE((*store)->commit(batch, VersionToken::from_revision(cursor)).is_ok());
  return std::move(*store);
}

Model sample(int n, const std::string& tag = "") {
  Model m;
  for (int i = 0; i < n; ++i) {
    m["node." + std::to_string(i)] = "{\"id\":" + std::to_string(i) + ",\"tag\":\"" + tag + "\"}";
    m["cert." + std::to_string(i)] = std::string(static_cast<std::size_t>(i % 50), 'x');
  }
  return m;
}

artifact::ExportOptions options(const std::string& bucket = "cfg") {
  artifact::ExportOptions o;
  o.bucket = bucket;
  o.workers = 2;
  return o;
}

artifact::Manifest current(MemoryLocation& loc, const std::string& bucket = "cfg") {
  auto m = artifact::resolve(loc, bucket, "");
  REQUIRE_MESSAGE(m.is_ok(), m.status().to_string());
  return *m;
}

}  // namespace

TEST_CASE("artifact: export and import round trip into both backends") {
  TempDir tmp;
  const Model data = sample(300);
  auto store = make_fold(tmp.file("src.snap"), data, 1000);
  MemoryLocation loc;
  artifact::ExportReport report;
  REQUIRE_OK(artifact::export_fold(*store, loc, options(), &report));
  const artifact::Manifest& m = report.manifest;
  CHECK(m.entries == data.size());
  CHECK(*m.cursor.revision() == 1000);
  CHECK(m.payload == "cfg/artifacts/" + m.id + ".pgss.zst");
  CHECK(loc.objects.count("cfg/pointer.json") == 1);
  CHECK(loc.objects.count("cfg/artifacts/" + m.id + ".json") == 1);
  CHECK(m.compressed_size < m.uncompressed_size);
  CHECK(current(loc).id == m.id);

  for (std::string backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string dest = tmp.file("dst-" + backend);
    artifact::ImportOptions io;
    io.backend = backend;
    REQUIRE_OK(artifact::import_fold(loc, current(loc), dest, io));
    auto got = backend == "log" ? fold::open_log(dest, {}) : fold::open_leveldb(dest, {});
    REQUIRE(got.is_ok());
    CHECK(store_model(**got) == data);
    CHECK(*(*got)->cursor()->revision() == 1000);
    // An existing destination is refused without force, and replaced with it.
    got = slip::Result<std::unique_ptr<fold::Store>>(slip::Status::not_found("closed"));
    CHECK(artifact::import_fold(loc, current(loc), dest, io).kind() ==
          StatusKind::kInvalidArgument);
    io.force = true;
    CHECK(artifact::import_fold(loc, current(loc), dest, io).is_ok());
  }
  // The log payload is the canonical form: compacting it changes nothing.
  auto report2 = slip::snapshot::compact(tmp.file("dst-log"), tmp.file("dst-log"));
  REQUIRE(report2.is_ok());
  CHECK_FALSE(report2->rewritten);
}

TEST_CASE("artifact: a prefix scope exports only its keys and is recorded") {
  TempDir tmp;
  auto store = make_fold(tmp.file("src.snap"), sample(20), 50);
  MemoryLocation loc;
  auto o = options();
  o.prefixes = {"node.1", "node.", "cert.1"};  // overlapping prefixes: each key once
  artifact::ExportReport report;
  REQUIRE_OK(artifact::export_fold(*store, loc, o, &report));
  Model want;
  for (const auto& [k, v] : sample(20))
    if (k.rfind("node.", 0) == 0 || k.rfind("cert.1", 0) == 0) want[k] = v;
  CHECK(report.manifest.entries == want.size());
  CHECK(report.manifest.scope == std::vector<std::string>{"cert.1", "node.", "node.1"});
  REQUIRE_OK(artifact::import_fold(loc, report.manifest, tmp.file("d"), {}));
  auto got = fold::open_log(tmp.file("d"), {});
  CHECK(store_model(**got) == want);
}

TEST_CASE("artifact: every flipped byte of a manifest is detected") {
  TempDir tmp;
  auto store = make_fold(tmp.file("src.snap"), sample(5), 7);
  MemoryLocation loc;
  artifact::ExportReport report;
  REQUIRE_OK(artifact::export_fold(*store, loc, options(), &report));
  const std::string json = report.manifest.to_json();
  REQUIRE(artifact::Manifest::parse(json).is_ok());
  for (std::size_t i = 0; i + 1 < json.size(); ++i) {  // the final newline is not content
    for (unsigned char bit : {0x01, 0x20, 0x80}) {
      std::string bad = json;
      bad[i] = static_cast<char>(bad[i] ^ bit);
      auto parsed = artifact::Manifest::parse(bad);
      CAPTURE(i);
      CAPTURE(bad);
      CHECK_FALSE(parsed.is_ok());
    }
  }
}

TEST_CASE("artifact: a flipped payload byte fails the import and leaves nothing") {
  TempDir tmp;
  auto store = make_fold(tmp.file("src.snap"), sample(200), 9);
  MemoryLocation loc;
  artifact::ExportReport report;
  REQUIRE_OK(artifact::export_fold(*store, loc, options(), &report));
  std::string& payload = loc.objects.at(report.manifest.payload).data;
  for (std::size_t at : {std::size_t{0}, payload.size() / 2, payload.size() - 1}) {
    CAPTURE(at);
    payload[at] = static_cast<char>(payload[at] ^ 0x10);
    for (std::string backend : {"log", "leveldb"}) {
      artifact::ImportOptions io;
      io.backend = backend;
      slip::Status s = artifact::import_fold(loc, current(loc), tmp.file("dst"), io);
      CHECK(s.kind() == StatusKind::kCorruption);
      CHECK_FALSE(slip::test::file_exists(tmp.file("dst")));
    }
    payload[at] = static_cast<char>(payload[at] ^ 0x10);
  }
  // A truncated payload too.
  payload.resize(payload.size() - 3);
  CHECK(artifact::import_fold(loc, current(loc), tmp.file("dst"), {}).kind() ==
        StatusKind::kCorruption);
  CHECK_FALSE(slip::test::file_exists(tmp.file("dst")));
  // Nothing else is left beside the destination.
  int leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    leftovers += e.path().filename().string().rfind(".dst", 0) == 0;
  CHECK(leftovers == 0);
}

TEST_CASE("artifact: the pointer never moves backwards") {
  TempDir tmp;
  auto newer = make_fold(tmp.file("new.snap"), sample(10, "new"), 200);
  auto older = make_fold(tmp.file("old.snap"), sample(10, "old"), 100);
  for (bool conditional : {true, false}) {
    CAPTURE(conditional);
    MemoryLocation loc(conditional);
    REQUIRE_OK(artifact::export_fold(*newer, loc, options(), nullptr));
    const std::string pointer = loc.objects.at("cfg/pointer.json").data;
    slip::Status s = artifact::export_fold(*older, loc, options(), nullptr);
    CHECK(s.kind() == StatusKind::kConflict);
    CHECK(s.message().find("superseded") != std::string::npos);
    CHECK(loc.objects.at("cfg/pointer.json").data == pointer);
  }
}

TEST_CASE("artifact: a newer export published during ours wins; ours is refused") {
  TempDir tmp;
  auto newer = make_fold(tmp.file("new.snap"), sample(10, "new"), 200);
  auto older = make_fold(tmp.file("old.snap"), sample(10, "old"), 100);
  MemoryLocation loc;
  auto o = options();
  // The race: the newer exporter publishes after our upload, before our pointer write.
  o.before_publish = [&]() { return artifact::export_fold(*newer, loc, options(), nullptr); };
  slip::Status s = artifact::export_fold(*older, loc, o, nullptr);
  CHECK(s.kind() == StatusKind::kConflict);
  CHECK(s.message().find("superseded") != std::string::npos);
  CHECK(*current(loc).cursor.revision() == 200);
}

TEST_CASE("artifact: a pointer changed between read and write is read again (If-Match)") {
  TempDir tmp;
  auto first = make_fold(tmp.file("a.snap"), sample(10, "a"), 100);
  auto second = make_fold(tmp.file("b.snap"), sample(10, "b"), 300);
  auto third = make_fold(tmp.file("c.snap"), sample(10, "c"), 200);
  MemoryLocation loc;
  REQUIRE_OK(artifact::export_fold(*first, loc, options(), nullptr));
  // While the exporter at 200 writes its pointer, one at 300 gets there first.
  bool raced = false;
  loc.before_put = [&](const std::string& key) {
    if (key == "cfg/pointer.json" && !raced) {
      raced = true;
      loc.before_put = nullptr;
      REQUIRE_OK(artifact::export_fold(*second, loc, options(), nullptr));
    }
    return slip::Status::ok();
  };
  slip::Status s = artifact::export_fold(*third, loc, options(), nullptr);
  CHECK(raced);
  CHECK(s.kind() == StatusKind::kConflict);
  CHECK(s.message().find("superseded") != std::string::npos);
  CHECK(*current(loc).cursor.revision() == 300);
}

TEST_CASE("artifact: a failed upload leaves the previous pointer and artifact importable") {
  TempDir tmp;
  auto first = make_fold(tmp.file("a.snap"), sample(50, "a"), 100);
  auto second = make_fold(tmp.file("b.snap"), sample(4000, "b"), 200);
  MemoryLocation loc;
  REQUIRE_OK(artifact::export_fold(*first, loc, options(), nullptr));
  const std::string pointer = loc.objects.at("cfg/pointer.json").data;
  loc.fail_upload_after = 1000;
  slip::Status s = artifact::export_fold(*second, loc, options(), nullptr);
  CHECK(s.kind() == StatusKind::kUnavailable);
  CHECK(loc.objects.at("cfg/pointer.json").data == pointer);
  REQUIRE_OK(artifact::import_fold(loc, current(loc), tmp.file("d"), {}));
  CHECK(store_model(**fold::open_log(tmp.file("d"), {})) == sample(50, "a"));
}

TEST_CASE("artifact: exporting the same state again reuses the stored artifact") {
  TempDir tmp;
  auto store = make_fold(tmp.file("a.snap"), sample(30), 100);
  MemoryLocation loc;
  artifact::ExportReport a, b;
  REQUIRE_OK(artifact::export_fold(*store, loc, options(), &a));
  const std::size_t objects = loc.objects.size();
  REQUIRE_OK(artifact::export_fold(*store, loc, options(), &b));
  CHECK(b.reused);
  CHECK(a.manifest.id == b.manifest.id);
  CHECK(a.manifest.to_json() == b.manifest.to_json());
  CHECK(loc.objects.size() == objects);
}

TEST_CASE("artifact: --keep prunes older artifacts after the grace period, never the current") {
  TempDir tmp;
  MemoryLocation loc;
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    auto store = make_fold(tmp.file("f" + std::to_string(i)), sample(5, std::to_string(i)),
                           static_cast<std::uint64_t>(i * 10));
    artifact::ExportReport r;
    auto o = options();
    o.keep = 2;  // with the default grace of an hour: nothing is old enough yet
    REQUIRE_OK(artifact::export_fold(*store, loc, o, &r));
    CHECK(r.pruned.empty());
    ids.push_back(r.manifest.id);
  }
  // A payload whose manifest was never written (an export that died).
  loc.store("cfg/artifacts/0123456789abcdef0123456789abcdef.pgss.zst", "partial");
  auto listed = artifact::list_artifacts(loc, "cfg");
  REQUIRE(listed.is_ok());
  CHECK(listed->size() == 5);

  auto store = make_fold(tmp.file("f6"), sample(5, "6"), 60);
  auto o = options();
  o.keep = 2;
  o.grace = std::chrono::seconds(0);
  artifact::ExportReport r;
  REQUIRE_OK(artifact::export_fold(*store, loc, o, &r));
  CHECK(r.pruned.size() == 5);  // four artifacts and the orphan payload
  listed = artifact::list_artifacts(loc, "cfg");
  REQUIRE(listed->size() == 2);
  CHECK(listed->at(0).manifest.id == ids[4]);
  CHECK(listed->at(1).manifest.id == r.manifest.id);
  CHECK(listed->at(1).current);
  CHECK(loc.objects.count("cfg/artifacts/0123456789abcdef0123456789abcdef.pgss.zst") == 0);
  CHECK(loc.objects.count("cfg/artifacts/" + ids[0] + ".pgss.zst") == 0);
}

TEST_CASE("artifact: a fold without a cursor is not exported") {
  TempDir tmp;
  auto store = fold::open_log(tmp.file("empty.snap"), {});
  MemoryLocation loc;
  CHECK(artifact::export_fold(**store, loc, options(), nullptr).kind() ==
        StatusKind::kInvalidArgument);
  CHECK(loc.objects.empty());
}
