// Both fold stores against an in-memory model: commits, reopening, torn
// tails, compaction, locking, and a failing write that must leave no trace.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <map>
#include <random>

#include <leveldb/db.h>

#include "slip/fold.h"
#include "slip/snapshot.h"
#include "support/files.h"
#include "support/folds.h"

namespace fold = slip::fold;
using slip::VersionToken;
using slip::test::store_model;

namespace {

using Model = std::map<std::string, std::string>;

slip::Result<std::unique_ptr<fold::Store>> open(const std::string& backend, const std::string& path,
                                                fold::Options options = {}) {
  return backend == "log" ? fold::open_log(path, options) : fold::open_leveldb(path, options);
}

}  // namespace

TEST_CASE("fold stores: random batches equal the model, before and after reopening") {
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    slip::test::TempDir dir;
    const std::string path = dir.file("fold");
    std::mt19937_64 rng(11);
    Model model;
    std::uint64_t revision = 0;
    {
      auto store = open(backend, path);
      REQUIRE(store.is_ok());
      CHECK_FALSE((*store)->cursor().has_value());
      for (int batch = 0; batch < 60; ++batch) {
        std::vector<fold::Mutation> mutations;
        for (int i = 0; i < 1 + batch % 7; ++i) {
          std::string key = "k/" + std::to_string(rng() % 25);
          ++revision;
          if (rng() % 4 == 0) {
            mutations.push_back({key, "", VersionToken::from_revision(revision), true});
            model.erase(key);
          } else {
            std::string value = "v" + std::to_string(revision);
            mutations.push_back({key, value, VersionToken::from_revision(revision), false});
            model[key] = value;
          }
        }
        REQUIRE((*store)->commit(mutations, VersionToken::from_revision(revision)).is_ok());
        CHECK((*store)->size() == model.size());
      }
      CHECK(store_model(**store) == model);
      auto one = (*store)->get(model.begin()->first);
      REQUIRE(one.is_ok());
      CHECK((*one)->value == model.begin()->second);
      CHECK_FALSE((*(*store)->get("absent")).has_value());
      Model prefixed;
      CHECK((*store)
                ->scan("k/1",
                       [&](std::string_view k, const fold::Value& v) {
                         prefixed.emplace(std::string(k), v.value);
                         return true;
                       })
                .is_ok());
      for (const auto& [k, v] : prefixed) CHECK(k.rfind("k/1", 0) == 0);
    }
    auto reopened = open(backend, path);
    REQUIRE(reopened.is_ok());
    CHECK(store_model(**reopened) == model);
    CHECK((*reopened)->cursor()->revision() == revision);
    CHECK((*reopened)->size() == model.size());
    auto detected = fold::detect_backend(path);
    REQUIRE(detected.is_ok());
    CHECK(**detected == backend);
  }
}

TEST_CASE("fold stores: a second writer is refused") {
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    slip::test::TempDir dir;
    auto first = open(backend, dir.file("fold"));
    REQUIRE(first.is_ok());
    auto second = open(backend, dir.file("fold"));
    REQUIRE_FALSE(second.is_ok());
    CHECK(second.status().kind() == slip::StatusKind::kIOError);
    CHECK(second.status().message().find("in use by another slip process") != std::string::npos);
  }
}

TEST_CASE("log fold: a torn tail from a crash is truncated on open; corruption is refused") {
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.snap");
  {
    auto store = fold::open_log(path, {});
    REQUIRE(store.is_ok());
    REQUIRE(
        (*store)
            ->commit({{"a", "1", VersionToken::from_revision(1)}}, VersionToken::from_revision(1))
            .is_ok());
  }
  const std::string good = slip::test::read_file(path);
  slip::test::write_file(path,
                         good + std::string("\x12\x34\x56\x78\x01\x05\x00ab", 9));  // half a PUT
  {
    auto store = fold::open_log(path, {});
    REQUIRE(store.is_ok());
    CHECK(slip::test::read_file(path) == good);
    REQUIRE(
        (*store)
            ->commit({{"b", "2", VersionToken::from_revision(2)}}, VersionToken::from_revision(2))
            .is_ok());
  }
  auto state = slip::snapshot::replay(path);
  REQUIRE(state.is_ok());
  CHECK(state->problem.damage == slip::snapshot::Damage::kNone);
  CHECK(state->entries.size() == 2);

  std::string corrupt = slip::test::read_file(path);
  corrupt[7] ^= 0x40;  // inside the first record's CRC
  slip::test::write_file(path, corrupt);
  auto refused = fold::open_log(path, {});
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().kind() == slip::StatusKind::kCorruption);
}

TEST_CASE("log fold: past the threshold the file is compacted to canonical form") {
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.snap");
  auto store = fold::open_log(path, {.compact_threshold = 4096});
  REQUIRE(store.is_ok());
  for (std::uint64_t rev = 1; rev <= 400; ++rev) {
    REQUIRE((*store)
                ->commit({{"key" + std::to_string(rev % 5), std::string(40, 'x'),
                           VersionToken::from_revision(rev)}},
                         VersionToken::from_revision(rev))
                .is_ok());
  }
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_size < 4096 + 400);
  auto index = slip::snapshot::build_index(path);
  REQUIRE(index.is_ok());
  CHECK(index->live.size() == 5);
  CHECK(index->cursor->revision() == 400);
  CHECK((*store)
            ->commit({{"after", "y", VersionToken::from_revision(401)}},
                     VersionToken::from_revision(401))
            .is_ok());
  auto state = slip::snapshot::replay(path);
  REQUIRE(state.is_ok());
  CHECK(state->entries.size() == 6);
}

TEST_CASE("log fold: a failed write leaves neither data nor cursor behind, and a retry succeeds") {
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.snap");
  auto store = fold::open_log(path, {});
  REQUIRE(store.is_ok());
  REQUIRE((*store)
              ->commit({{"a", "1", VersionToken::from_revision(1)}}, VersionToken::from_revision(1))
              .is_ok());
  const std::string before = slip::test::read_file(path);

  // A file size limit stands in for a full disk: the write fails with EFBIG.
  ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit old_limit;
  ::getrlimit(RLIMIT_FSIZE, &old_limit);
  struct rlimit small = old_limit;
  small.rlim_cur = before.size() + 10;
  ::setrlimit(RLIMIT_FSIZE, &small);
  std::vector<fold::Mutation> big = {{"b", std::string(1000, 'b'), VersionToken::from_revision(2)}};
  slip::Status failed = (*store)->commit(big, VersionToken::from_revision(2));
  ::setrlimit(RLIMIT_FSIZE, &old_limit);

  CHECK_FALSE(failed.is_ok());
  CHECK(slip::test::read_file(path) == before);
  CHECK((*store)->cursor()->revision() == 1);
  CHECK_FALSE((*(*store)->get("b")).has_value());
  REQUIRE((*store)->commit(big, VersionToken::from_revision(2)).is_ok());
  auto state = slip::snapshot::replay(path);
  REQUIRE(state.is_ok());
  CHECK(state->problem.damage == slip::snapshot::Damage::kNone);
  CHECK(state->cursor->revision() == 2);
}

TEST_CASE("leveldb fold: the key count is stored with each commit, and a stale one is recounted") {
  slip::test::TempDir dir;
  const std::string path = dir.file("fold");
  auto put = [](const std::string& key, std::uint64_t revision) {
    return fold::Mutation{key, "v", VersionToken::from_revision(revision), false};
  };
  {
    auto store = fold::open_leveldb(path, {});
    REQUIRE(store.is_ok());
    REQUIRE((*store)
                ->commit({put("a", 1), put("b", 2), put("c", 3)}, VersionToken::from_revision(3))
                .is_ok());
  }
  // A writer that does not know m:keys (an older slip) commits behind its
  // back: another key and a new cursor, the stored count left as it was.
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), path, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    std::string keys;
    REQUIRE(db->Get({}, "m:keys", &keys).ok());  // written by the commit
    const std::string cursor(VersionToken::from_revision(4).bytes());
    std::string value(1, static_cast<char>(cursor.size()));
    value += cursor + "v";
    REQUIRE(db->Put({}, "dd", value).ok());
    REQUIRE(db->Put({}, "m:cursor", cursor).ok());
  }
  for (bool read_only : {true, false}) {
    CAPTURE(read_only);
    fold::Options o;
    o.read_only = read_only;
    auto store = fold::open_leveldb(path, o);
    REQUIRE(store.is_ok());
    CHECK((*store)->size() == 4);  // counted: the stored 3 belongs to cursor 3
  }
  // The next commit stores the count again, and opening uses it as it is
  // rather than walking the keys (so a key removed behind its back, with
  // the cursor left alone, goes unnoticed).
  {
    auto store = fold::open_leveldb(path, {});
    REQUIRE(store.is_ok());
    REQUIRE((*store)->commit({put("e", 5)}, VersionToken::from_revision(5)).is_ok());
    CHECK((*store)->size() == 5);
  }
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), path, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    REQUIRE(db->Delete({}, "da").ok());
  }
  auto store = fold::open_leveldb(path, {});
  REQUIRE(store.is_ok());
  CHECK((*store)->size() == 5);
}
