// Diff sources over real files and real LevelDB folds: the same state read
// from a canonical file, a non-canonical log and a LevelDB fold; scopes;
// damaged files at every length; the read-only fold and its lock.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

#include "slip/diff.h"
#include "slip/fold.h"
#include "support/files.h"
#include "support/snapshot_model.h"

namespace diff = slip::diff;
namespace snapshot = slip::snapshot;
using slip::StatusKind;
using slip::VersionToken;
using slip::test::Op;

namespace {

// key -> (value, revision)
using State = std::map<std::string, std::pair<std::string, std::uint64_t>>;

State read_all(diff::Source& source, std::optional<VersionToken>* cursor = nullptr) {
  State out;
  std::string last;
  for (;;) {
    auto more = source.next();
    REQUIRE_MESSAGE(more.is_ok(), more.status().to_string());
    if (!*more) break;
    const std::string key(source.key());
    if (!out.empty()) CHECK(last < key);
    last = key;
    auto value = source.value();
    REQUIRE(value.is_ok());
    CHECK(value->size() == source.value_size());
    out[key] = {std::string(*value), source.version().revision().value_or(0)};
  }
  if (cursor != nullptr) *cursor = source.cursor();
  return out;
}

Op put(const std::string& key, const std::string& value, std::uint64_t rev) {
  return {snapshot::RecordType::kPut, key, value, VersionToken::from_revision(rev)};
}
Op del(const std::string& key, std::uint64_t rev) {
  return {snapshot::RecordType::kDelete, key, "", VersionToken::from_revision(rev)};
}
Op cursor(std::uint64_t rev) {
  return {snapshot::RecordType::kCursor, "", "", VersionToken::from_revision(rev)};
}

// The ops of STATE in canonical form, with a final cursor.
std::vector<Op> canonical_ops(const State& state, std::uint64_t cur) {
  std::vector<Op> ops;
  for (const auto& [k, v] : state) ops.push_back(put(k, v.first, v.second));
  ops.push_back(cursor(cur));
  return ops;
}

const State kState{{"cfg.a", {"1", 3}},
                   {"cfg.b", {"", 4}},
                   {"node.eu-1", {"up", 7}},
                   {"node.eu-2", {std::string("\x00\xff", 2), 8}},
                   {"zeta.\xc3\xa9t\xc3\xa9", {"unicode", 9}}};

void write_leveldb(const std::string& path, const State& state, std::uint64_t cur) {
  auto store = slip::fold::open_leveldb(path, {});
  REQUIRE(store.is_ok());
  std::vector<slip::fold::Mutation> m;
  for (const auto& [k, v] : state) m.push_back({k, v.first, VersionToken::from_revision(v.second)});
  REQUIRE((*store)->commit(m, VersionToken::from_revision(cur)).is_ok());
}

}  // namespace

TEST_CASE("diff sources: canonical file, non-canonical log and LevelDB fold read the same state") {
  slip::test::TempDir dir;
  slip::test::write_file(dir.file("canonical.snap"),
                         slip::test::encode_ops(canonical_ops(kState, 12)));
  // The same state reached through rewrites, deletes, several cursors and
  // keys out of order, as a mirror's log fold looks.
  std::vector<Op> log{
      put("node.eu-2", "old", 1), put("gone", "x", 2), cursor(2), put("cfg.a", "1", 3),
      put("cfg.b", "", 4),        del("gone", 5),      cursor(5), put("node.eu-1", "up", 7)};
  log.push_back(put("node.eu-2", std::string("\x00\xff", 2), 8));
  log.push_back(put("zeta.\xc3\xa9t\xc3\xa9", "unicode", 9));
  log.push_back(cursor(12));
  slip::test::write_file(dir.file("log.snap"), slip::test::encode_ops(log));
  write_leveldb(dir.file("fold.ldb"), kState, 12);

  for (const std::string name : {"canonical.snap", "log.snap", "fold.ldb"}) {
    CAPTURE(name);
    const std::string path = dir.file(name);
    auto source =
        name == "fold.ldb" ? diff::open_leveldb_fold(path, {}) : diff::open_snapshot_file(path, {});
    REQUIRE_MESSAGE(source.is_ok(), source.status().to_string());
    std::optional<VersionToken> cur;
    CHECK(read_all(**source, &cur) == kState);
    REQUIRE(cur.has_value());
    CHECK(cur->revision() == 12u);
    source->reset();  // a LevelDB fold admits one opener at a time

    // Prefixes: several, overlapping ones, none matching.
    slip::kv::Scope scope{{"node.", "cfg.b", "node.eu-1", "zz"}};
    auto scoped = name == "fold.ldb" ? diff::open_leveldb_fold(path, scope)
                                     : diff::open_snapshot_file(path, scope);
    REQUIRE_MESSAGE(scoped.is_ok(), scoped.status().to_string());
    State want;
    for (const auto& [k, v] : kState)
      if (scope.matches(k)) want[k] = v;
    CHECK(want.size() == 3);
    CHECK(read_all(**scoped) == want);
  }
}

TEST_CASE("diff sources: a damaged file is refused whole, at every truncated length") {
  slip::test::TempDir dir;
  for (bool canonical : {true, false}) {
    CAPTURE(canonical);
    std::vector<Op> ops = canonical_ops(kState, 12);
    if (!canonical) ops.insert(ops.begin() + 2, del("cfg.a", 2));
    const std::string bytes = slip::test::encode_ops(ops);
    // Record boundaries: where a cut leaves an intact, shorter file.
    std::vector<std::size_t> ends{6};
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::vector<Op> prefix(ops.begin(), ops.begin() + static_cast<long>(i) + 1);
      ends.push_back(slip::test::encode_ops(prefix).size());
    }
    const std::string path = dir.file("cut.snap");
    for (std::size_t len = 1; len < bytes.size(); ++len) {
      CAPTURE(len);
      slip::test::write_file(path, bytes.substr(0, len));
      auto source = diff::open_snapshot_file(path, {});
      const bool intact = std::find(ends.begin(), ends.end(), len) != ends.end();
      if (intact) {
        CHECK(source.is_ok());
      } else {
        REQUIRE_FALSE(source.is_ok());
        CHECK(source.status().kind() == StatusKind::kCorruption);
      }
    }
    // A flipped byte in the middle: corrupted.
    std::string damaged = bytes;
    damaged[bytes.size() / 2] ^= 0x20;
    slip::test::write_file(path, damaged);
    auto source = diff::open_snapshot_file(path, {});
    REQUIRE_FALSE(source.is_ok());
    CHECK(source.status().kind() == StatusKind::kCorruption);
    CHECK(source.status().message().find("cut.snap") != std::string::npos);
  }
  // An empty file is a log fold before its first commit: an empty side.
  slip::test::write_file(dir.file("empty.snap"), "");
  auto empty = diff::open_snapshot_file(dir.file("empty.snap"), {});
  REQUIRE(empty.is_ok());
  std::optional<VersionToken> cur = VersionToken();
  CHECK(read_all(**empty, &cur).empty());
  CHECK_FALSE(cur.has_value());
}

TEST_CASE("diff sources: a canonical stream refuses what is not canonical, part way") {
  slip::test::TempDir dir;
  const std::vector<std::vector<Op>> bad{
      {put("a", "1", 1), put("c", "1", 2), put("b", "1", 3)},
      {put("a", "1", 1), del("b", 2)},
      {put("a", "1", 1), cursor(1), put("b", "1", 2)},
  };
  for (const auto& ops : bad) {
    slip::test::write_file(dir.file("s.snap"), slip::test::encode_ops(ops));
    auto reader = snapshot::Reader::open(dir.file("s.snap"));
    REQUIRE(reader.is_ok());
    auto source = diff::canonical_snapshot_stream(std::move(*reader), {});
    auto first = source->next();
    REQUIRE(first.is_ok());
    CHECK(*first);
    CHECK(source->key() == "a");
    slip::Result<bool> more = true;
    while (more.is_ok() && *more) more = source->next();
    REQUIRE_FALSE(more.is_ok());
    CHECK(more.status().kind() == StatusKind::kCorruption);
    CHECK(more.status().message().find("canonical") != std::string::npos);
  }
}

TEST_CASE("diff sources: a LevelDB fold is opened read-only and not while a writer holds it") {
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.ldb");
  // Missing: not created.
  auto missing = diff::open_leveldb_fold(path, {});
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().kind() == StatusKind::kInvalidArgument);
  CHECK_FALSE(slip::test::file_exists(path));

  write_leveldb(path, kState, 12);
  {
    auto writer = slip::fold::open_leveldb(path, {});
    REQUIRE(writer.is_ok());
    auto busy = diff::open_leveldb_fold(path, {});
    REQUIRE_FALSE(busy.is_ok());
    CHECK(busy.status().kind() == StatusKind::kIOError);
    CHECK(busy.status().message().find("in use") != std::string::npos);
  }
  slip::fold::Options ro;
  ro.read_only = true;
  auto store = slip::fold::open_leveldb(path, ro);
  REQUIRE(store.is_ok());
  CHECK((*store)->size() == kState.size());
  CHECK((*store)->commit({}, VersionToken::from_revision(13)).kind() ==
        StatusKind::kInvalidArgument);
  CHECK((*store)->cursor()->revision() == 12u);
  CHECK_FALSE(slip::fold::open_log(dir.file("x.snap"), ro).is_ok());
}

TEST_CASE("diff sources: a file streamed in one pass says when it must be indexed instead") {
  slip::test::TempDir dir;
  const std::string path = dir.file("s.snap");
  slip::test::write_file(path, slip::test::encode_ops(canonical_ops(kState, 12)));
  auto good = diff::stream_snapshot_file(path, {});
  REQUIRE(good.is_ok());
  std::optional<VersionToken> cur;
  CHECK(read_all(**good, &cur) == kState);
  CHECK(cur->revision() == 12u);

  auto drain = [](diff::Source& s) {
    slip::Result<bool> more = true;
    while (more.is_ok() && *more) more = s.next();
    return more.is_ok() ? slip::Status::ok() : more.status();
  };
  slip::test::write_file(path, slip::test::encode_ops({put("b", "1", 1), put("a", "1", 2)}));
  auto unordered = diff::stream_snapshot_file(path, {});
  REQUIRE(unordered.is_ok());
  CHECK(drain(**unordered).kind() == StatusKind::kNotSupported);

  const std::string bytes = slip::test::encode_ops(canonical_ops(kState, 12));
  slip::test::write_file(path, bytes.substr(0, bytes.size() - 2));
  auto torn = diff::stream_snapshot_file(path, {});
  REQUIRE(torn.is_ok());
  CHECK(drain(**torn).kind() == StatusKind::kCorruption);

  slip::test::write_file(path, "");
  auto empty = diff::stream_snapshot_file(path, {});
  REQUIRE_FALSE(empty.is_ok());
  CHECK(empty.status().kind() == StatusKind::kNotSupported);
}

TEST_CASE("diff sources: an indexed log equals its replay, keys sharing long heads included") {
  slip::test::TempDir dir;
  const std::string path = dir.file("r.snap");
  std::mt19937_64 rng(5);
  for (int round = 0; round < 50; ++round) {
    std::vector<Op> ops;
    State model;
    std::uint64_t rev = 0;
    for (int i = 0; i < 200; ++i) {
      // Keys longer than the 16 inline bytes, differing only at the end,
      // plus short ones and the empty key.
      static const char* const kKeys[] = {"",
                                          "a",
                                          "a\\0",
                                          "ab",
                                          "node.eu-west-1.host-0001",
                                          "node.eu-west-1.host-0002",
                                          "node.eu-west-1.host-0001x",
                                          "node.eu-west-1.host-000"};
      const std::string key = kKeys[rng() % 8];
      ++rev;
      switch (rng() % 4) {
        case 0:
          ops.push_back(del(key, rev));
          model.erase(key);
          break;
        case 1: ops.push_back(cursor(rev)); break;
        default: {
          const std::string value(rng() % 4, 'x');
          ops.push_back(put(key, value, rev));
          model[key] = {value, rev};
        }
      }
    }
    slip::test::write_file(path, slip::test::encode_ops(ops));
    auto source = diff::open_snapshot_file(path, {});
    REQUIRE(source.is_ok());
    CAPTURE(round);
    CHECK(read_all(**source) == model);
  }
}
