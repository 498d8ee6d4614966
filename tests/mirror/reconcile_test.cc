// mirror::reconcile against an in-memory bucket whose live keys the test
// sets directly, as the server's silent removals would leave them, on both
// fold backends. The end-to-end cases on real servers are in
// tests/cli/server_removals_test.cc.
#include <doctest/doctest.h>

#include <map>

#include "mirror/reconcile.h"
#include "support/files.h"

namespace {

using slip::Result;
using slip::Status;
using slip::VersionToken;
namespace kv = slip::kv;
namespace fold = slip::fold;

// Only what reconcile uses: scan() and entry(). LIVE is the bucket's state:
// key -> (revision, value); a key absent from it has no live revision.
class LiveKeys final : public kv::Bucket {
 public:
  std::map<std::string, std::pair<std::uint64_t, std::string>> live;
  // Live, yet not listed by scan(): a scan that reads the wrong subjects.
  std::map<std::string, std::pair<std::uint64_t, std::string>> unlisted;
  int entry_calls = 0;

  const std::string& name() const override { return name_; }
  Result<kv::Entry> get(std::string_view key) override { return entry(key); }
  Result<kv::Entry> entry(std::string_view key) override {
    ++entry_calls;
    auto* where = live.count(std::string(key)) ? &live : &unlisted;
    auto it = where->find(std::string(key));
    if (it == where->end()) return Status::not_found("no key");
    kv::Entry e;
    e.key = it->first;
    e.revision = it->second.first;
    e.value = it->second.second;
    return e;
  }
  Status scan(const kv::Scope& scope, bool, const std::function<bool(const kv::Entry&)>& visit) override {
    for (const auto& [key, rv] : live) {
      if (!scope.matches(key)) continue;
      kv::Entry e;
      e.key = key;
      e.revision = rv.first;
      if (!visit(e)) break;
    }
    return Status::ok();
  }
  Result<std::uint64_t> put(std::string_view, std::string_view) override { return unused(); }
  Result<std::uint64_t> create(std::string_view, std::string_view) override { return unused(); }
  Result<std::uint64_t> update(std::string_view, std::string_view, std::uint64_t) override {
    return unused();
  }
  Result<std::uint64_t> del(std::string_view, std::optional<std::uint64_t>) override {
    return unused();
  }
  Result<std::uint64_t> purge(std::string_view) override { return unused(); }
  Result<std::vector<kv::Entry>> history(std::string_view) override { return unused(); }
  Result<kv::BucketStatus> status() override { return unused(); }
  Result<std::unique_ptr<kv::Watcher>> watch(const kv::WatchOptions&) override { return unused(); }

 private:
  static Status unused() { return Status::not_supported("not used by reconcile"); }
  std::string name_ = "b";
};

std::map<std::string, std::pair<std::uint64_t, std::string>> contents(fold::Store& store) {
  std::map<std::string, std::pair<std::uint64_t, std::string>> out;
  REQUIRE(store.scan("", [&](std::string_view k, const fold::Value& v) {
    out[std::string(k)] = {v.version.revision().value_or(0), v.value};
    return true;
  }));
  return out;
}

fold::Mutation put(const std::string& key, std::uint64_t rev, const std::string& value) {
  return {key, value, VersionToken::from_revision(rev), false};
}

std::unique_ptr<fold::Store> open_store(const std::string& backend, const std::string& path) {
  auto s = backend == "log" ? fold::open_log(path, {}) : fold::open_leveldb(path, {});
  REQUIRE(s);
  return std::move(*s);
}

}  // namespace

TEST_CASE("reconcile: the fold converges to the live keys at or below its cursor, both backends") {
  for (const std::string backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    slip::test::TempDir dir;
    auto store = open_store(backend, dir.file("fold"));
    // The fold, complete up to revision 10.
    REQUIRE(store->commit({put("aged", 1, "x"), put("ttl", 5, "new"), put("kept", 6, "k"),
                           put("purged", 7, "p"), put("moving", 8, "m1")},
                          VersionToken::from_revision(10)));
    LiveKeys bucket;
    bucket.live = {
        {"ttl", {3, "old"}},        // a per-message TTL on 5 expired: revision 3 is live again
        {"kept", {6, "k"}},         // unchanged
        {"moving", {12, "m2"}},     // rewritten after the cursor: the watch brings it
        {"uncovered", {4, "u"}},    // a delete marker at 9 was removed: 4 is live again
        {"later", {11, "l"}},       // new after the cursor: the watch brings it
    };                              // "aged" expired by max_age, "purged" by the purge API

    auto counts = slip::mirror::reconcile(bucket, *store, {});
    REQUIRE(counts);
    CHECK(counts->scanned == 5);
    CHECK(counts->deleted == 2);
    CHECK(counts->refetched == 2);
    // Only the keys that differ are fetched, and the two about to be
    // deleted are read back once each (the check of the scan).
    CHECK(bucket.entry_calls == 4);
    CHECK(contents(*store) == std::map<std::string, std::pair<std::uint64_t, std::string>>{
                                  {"kept", {6, "k"}},
                                  {"moving", {8, "m1"}},
                                  {"ttl", {3, "old"}},
                                  {"uncovered", {4, "u"}}});
    REQUIRE(store->cursor());
    CHECK(store->cursor()->revision() == 10);  // the cursor does not move

    // A second reconcile has nothing left to do.
    auto again = slip::mirror::reconcile(bucket, *store, {});
    REQUIRE(again);
    CHECK(again->deleted == 0);
    CHECK(again->refetched == 0);

    // Reopened, the fold holds the same: the changes were committed.
    store.reset();
    store = open_store(backend, dir.file("fold"));
    CHECK(contents(*store).size() == 4);
  }
}

TEST_CASE("reconcile: a prefix scope touches only its own keys") {
  slip::test::TempDir dir;
  auto store = open_store("log", dir.file("fold"));
  REQUIRE(store->commit({put("a.1", 1, "x"), put("a.2", 2, "y"), put("b.1", 3, "z")},
                        VersionToken::from_revision(3)));
  LiveKeys bucket;
  bucket.live = {{"a.2", {2, "y"}}};  // a.1 and b.1 are gone, but b. is not in scope
  kv::Scope scope;
  scope.prefixes = {"a."};
  auto counts = slip::mirror::reconcile(bucket, *store, scope);
  REQUIRE(counts);
  CHECK(counts->deleted == 1);
  CHECK(contents(*store) == std::map<std::string, std::pair<std::uint64_t, std::string>>{
                                {"a.2", {2, "y"}}, {"b.1", {3, "z"}}});
}

TEST_CASE("reconcile: a scan that misses live keys deletes nothing") {
  for (const std::string backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    slip::test::TempDir dir;
    auto store = open_store(backend, dir.file("fold"));
    std::vector<fold::Mutation> keys;
    for (int i = 0; i < 100; ++i) keys.push_back(put("k" + std::to_string(100 + i), 1 + i, "v"));
    REQUIRE(store->commit(keys, VersionToken::from_revision(100)));
    LiveKeys bucket;
    // The scan lists nothing (say, the bucket's subjects are not the ones
    // read), yet a key in the middle is live at a revision the fold passed.
    bucket.unlisted = {{"k149", {50, "v"}}};
    auto counts = slip::mirror::reconcile(bucket, *store, {});
    REQUIRE_FALSE(counts);
    CHECK(counts.status().kind() == slip::StatusKind::kCheckFailed);
    CHECK(counts.status().message().find("k149") != std::string::npos);
    CHECK(contents(*store).size() == 100);

    // Truly gone, the same keys are deleted.
    bucket.unlisted.clear();
    auto ok = slip::mirror::reconcile(bucket, *store, {});
    REQUIRE(ok);
    CHECK(ok->deleted == 100);
    CHECK(contents(*store).empty());
  }
}

TEST_CASE("reconcile: a stop request ends it between chunks, each chunk committed") {
  slip::test::TempDir dir;
  auto store = open_store("leveldb", dir.file("fold"));
  std::vector<fold::Mutation> keys;
  for (int i = 0; i < 10000; ++i) keys.push_back(put("k" + std::to_string(10000 + i), 1 + i, "v"));
  REQUIRE(store->commit(keys, VersionToken::from_revision(10000)));
  LiveKeys bucket;  // every key is gone
  int asked = 0;
  auto counts = slip::mirror::reconcile(bucket, *store, {}, [&] { return ++asked >= 1; });
  REQUIRE_FALSE(counts);
  CHECK(counts.status().kind() == slip::StatusKind::kInterrupted);
  const std::size_t left = contents(*store).size();
  CHECK(left > 0);
  CHECK(left < 10000);
  CHECK(store->cursor()->revision() == 10000);
}
