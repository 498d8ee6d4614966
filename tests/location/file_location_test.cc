// file:// locations: objects as files, atomic uploads, conditional small
// writes under a lock, listing in key order.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "location/digest.h"
#include "slip/location.h"
#include "support/files.h"

namespace loc = slip::location;
using slip::StatusKind;

namespace {

std::unique_ptr<loc::Location> open(const std::string& url) {
  auto l = loc::open_location(url);
  REQUIRE_MESSAGE(l.is_ok(), l.status().to_string());
  return std::move(*l);
}

std::string read_all(loc::Download& d) {
  std::string out;
  char buf[1000];  // smaller than the objects: several reads
  for (;;) {
    auto n = d.read(buf, sizeof buf);
    REQUIRE(n.is_ok());
    if (*n == 0) return out;
    out.append(buf, *n);
  }
}

// Every file under DIR, recursively, relative names.
std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(std::filesystem::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("file location: streamed upload and download round trip, keys make subdirectories") {
  slip::test::TempDir dir;
  auto l = open("file://" + dir.path() + "/exports/edge");
  std::string payload;
  for (int i = 0; i < 300000; ++i) payload += static_cast<char>(i * 7 % 251);
  auto up = l->upload("payloads/ab/cd.pgss.zst");
  REQUIRE(up.is_ok());
  for (std::size_t at = 0; at < payload.size(); at += 4096) {
    REQUIRE((*up)
                ->write(payload.data() + at, std::min<std::size_t>(4096, payload.size() - at))
                .is_ok());
  }
  // Not visible before finish().
  CHECK_FALSE(l->download("payloads/ab/cd.pgss.zst").is_ok());
  REQUIRE((*up)->finish().is_ok());
  CHECK(slip::test::read_file(dir.path() + "/exports/edge/payloads/ab/cd.pgss.zst") == payload);

  auto down = l->download("payloads/ab/cd.pgss.zst");
  REQUIRE(down.is_ok());
  CHECK((*down)->size() == payload.size());
  CHECK(read_all(**down) == payload);

  auto missing = l->download("nope");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().kind() == StatusKind::kNotFound);
  CHECK(l->get_small("nope", nullptr).status().kind() == StatusKind::kNotFound);

  // Empty objects are objects.
  auto empty = l->upload("empty");
  REQUIRE(empty.is_ok());
  REQUIRE((*empty)->finish().is_ok());
  auto e = l->download("empty");
  REQUIRE(e.is_ok());
  CHECK((*e)->size() == 0);
  CHECK(read_all(**e).empty());
}

TEST_CASE("file location: an aborted or abandoned upload leaves nothing behind") {
  slip::test::TempDir dir;
  auto l = open(dir.path());
  {
    auto up = l->upload("a/b");
    REQUIRE(up.is_ok());
    REQUIRE((*up)->write("partial", 7).is_ok());
    (*up)->abort();
    CHECK_FALSE((*up)->finish().is_ok());
  }
  {
    auto up = l->upload("a/c");
    REQUIRE(up.is_ok());
    REQUIRE((*up)->write("partial", 7).is_ok());
  }  // destroyed without finish()
  CHECK(files_under(dir.path()).empty());
  CHECK(l->list("")->empty());
  // An existing object is kept whole when its replacement is aborted.
  REQUIRE(l->put_small("a/b", "old", loc::Precondition::none()).is_ok());
  {
    auto up = l->upload("a/b");
    REQUIRE((*up)->write("new!", 4).is_ok());
    (*up)->abort();
  }
  CHECK(*l->get_small("a/b", nullptr) == "old");
  CHECK(files_under(dir.path()) == std::vector<std::string>{".slip-location.lock", "a/b"});
}

TEST_CASE("file location: conditional small writes") {
  slip::test::TempDir dir;
  auto l = open(dir.path());
  auto create = loc::Precondition::create_only();
  REQUIRE(l->put_small("pointer/b1", "v1", create).is_ok());
  auto again = l->put_small("pointer/b1", "v1'", create);
  CHECK(again.kind() == StatusKind::kConflict);

  std::string etag;
  REQUIRE(*l->get_small("pointer/b1", &etag) == "v1");
  CHECK(etag == loc::sha256_hex("v1"));
  REQUIRE(l->put_small("pointer/b1", "v2", loc::Precondition::if_match(etag)).is_ok());
  // The old etag no longer matches.
  CHECK(l->put_small("pointer/b1", "v3", loc::Precondition::if_match(etag)).kind() ==
        StatusKind::kConflict);
  CHECK(*l->get_small("pointer/b1", nullptr) == "v2");
  // If-Match on a missing object fails too.
  CHECK(l->put_small("pointer/none", "x", loc::Precondition::if_match(etag)).kind() ==
        StatusKind::kConflict);
  CHECK(l->put_small("pointer/b1", "v4", loc::Precondition::none()).is_ok());
  CHECK(*l->get_small("pointer/b1", nullptr) == "v4");
}

TEST_CASE("file location: racing create-only writers from several processes, one wins") {
  slip::test::TempDir dir;
  constexpr int kWriters = 8;
  std::vector<pid_t> pids;
  for (int i = 0; i < kWriters; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto l = loc::open_location(dir.path());
      if (!l.is_ok()) ::_exit(3);
      auto s = (*l)->put_small("pointer", "writer " + std::to_string(i),
                               loc::Precondition::create_only());
      ::_exit(s.is_ok() ? 0 : s.kind() == StatusKind::kConflict ? 1 : 2);
    }
    pids.push_back(pid);
  }
  int won = 0;
  int lost = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++won;
    if (WEXITSTATUS(status) == 1) ++lost;
  }
  CHECK(won == 1);
  CHECK(lost == kWriters - 1);
}

TEST_CASE("file location: list is recursive, in key order, filtered by prefix") {
  slip::test::TempDir dir;
  auto l = open(dir.path() + "/loc");
  for (const char* key : {"b", "a/z", "a/b/c", "a-", "ab", "payloads/2", "payloads/10"}) {
    REQUIRE(l->put_small(key, key, loc::Precondition::none()).is_ok());
  }
  auto all = l->list("");
  REQUIRE(all.is_ok());
  std::vector<std::string> keys;
  for (auto& o : *all) keys.push_back(o.key);
  // Byte order, as S3 lists: '-' < '/' < 'b'.
  CHECK(keys ==
        std::vector<std::string>{"a-", "a/b/c", "a/z", "ab", "b", "payloads/10", "payloads/2"});
  CHECK((*all)[0].size == 2);
  CHECK((*all)[0].etag == loc::sha256_hex("a-"));
  CHECK((*all)[0].modified_ns > 0);

  auto some = l->list("a/");
  REQUIRE(some.is_ok());
  REQUIRE(some->size() == 2);
  CHECK((*some)[0].key == "a/b/c");
  auto partial = l->list("pay");
  REQUIRE(partial.is_ok());
  CHECK(partial->size() == 2);
  CHECK(l->list("zzz")->empty());

  // A location that does not exist yet lists empty.
  CHECK(open(dir.path() + "/none")->list("")->empty());

  REQUIRE(l->remove("a/b/c").is_ok());
  CHECK(l->remove("a/b/c").is_ok());                              // already gone: not an error
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/loc/a/b"));  // emptied subdirectory removed
  CHECK(l->list("a/")->size() == 1);
}

TEST_CASE("file location: keys that cannot be file names are refused") {
  slip::test::TempDir dir;
  auto l = open(dir.path());
  for (const char* key : {"", "/abs", "a//b", "a/../b", "..", "a/", ".slip-location.lock"}) {
    auto s = l->put_small(key, "x", loc::Precondition::none());
    CHECK_MESSAGE(s.kind() == StatusKind::kInvalidArgument, key);
  }
  CHECK(files_under(dir.path()).empty());
}

TEST_CASE("file location: a file staged in its staging directory is adopted without a copy") {
  slip::test::TempDir dir;
  auto l = open(dir.path() + "/loc");
  auto staging = l->staging_dir();
  REQUIRE(staging.is_ok());
  REQUIRE_FALSE(staging->empty());
  const std::string staged = *staging + "/payload.tmp";
  slip::test::write_file(staged, "compressed bytes");
  ::chmod(staged.c_str(), 0640);
  struct stat before;
  REQUIRE(::stat(staged.c_str(), &before) == 0);

  REQUIRE(l->adopt("b/artifacts/x.pgss.zst", staged).is_ok());
  CHECK_FALSE(std::filesystem::exists(staged));
  const std::string stored = dir.path() + "/loc/b/artifacts/x.pgss.zst";
  CHECK(slip::test::read_file(stored) == "compressed bytes");
  struct stat after;
  REQUIRE(::stat(stored.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);   // renamed, not copied
  CHECK((after.st_mode & 0777) == 0640);  // the mode it was made with

  // The staging directory is never an object, nor listed.
  auto all = l->list("");
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].key == "b/artifacts/x.pgss.zst");
  CHECK(l->put_small(".slip-tmp.staging/y", "y", loc::Precondition::none()).kind() ==
        StatusKind::kInvalidArgument);
  // A file that is not there is an error, not a silent success.
  CHECK_FALSE(l->adopt("b/y", *staging + "/missing").is_ok());

  // What a dead export left behind goes once it is a day old; a file
  // being written now stays.
  slip::test::write_file(*staging + "/dead", "x");
  slip::test::write_file(*staging + "/live", "x");
  struct timespec two_days_ago[2] = {{::time(nullptr) - 2 * 86400, 0},
                                     {::time(nullptr) - 2 * 86400, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (*staging + "/dead").c_str(), two_days_ago, 0) == 0);
  REQUIRE(l->staging_dir().is_ok());
  CHECK_FALSE(std::filesystem::exists(*staging + "/dead"));
  CHECK(std::filesystem::exists(*staging + "/live"));
}
