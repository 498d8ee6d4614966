// fs::TempPath: a temporary file or directory goes when its owner does,
// stays when released, and goes with remove_temp_paths_now() (what the
// signal handlers call before _exit) while its owner still lives.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "fs/temp_path.h"
#include "support/files.h"

namespace fsys = std::filesystem;
using slip::fs::TempPath;
using slip::test::TempDir;
using slip::test::write_file;

namespace {

// A directory like a scratch LevelDB fold: a few files, no subdirectory.
void make_flat_dir(const std::string& dir) {
  fsys::create_directory(dir);
  for (const char* name : {"CURRENT", "LOCK", "000003.log", "MANIFEST-000002"}) {
    write_file(dir + "/" + name, "x");
  }
}

}  // namespace

TEST_CASE("temp path: removed with its owner, a directory with what it holds") {
  TempDir tmp;
  const std::string file = tmp.file("payload"), dir = tmp.file("scratch");
  {
    TempPath f(file), d(dir);
    write_file(file, "data");
    make_flat_dir(dir);
    fsys::create_directory(dir + "/sub");
    write_file(dir + "/sub/deep", "x");
  }
  CHECK_FALSE(fsys::exists(file));
  CHECK_FALSE(fsys::exists(dir));
}

TEST_CASE("temp path: released, moved and reassigned") {
  TempDir tmp;
  const std::string kept = tmp.file("kept"), moved = tmp.file("moved"), old = tmp.file("old");
  write_file(kept, "k");
  write_file(moved, "m");
  write_file(old, "o");
  {
    TempPath k(kept);
    k.release();
    CHECK(k.path().empty());
    TempPath m(moved);
    TempPath target(old);
    target = std::move(m);  // the old path goes now, the moved one later
    CHECK_FALSE(fsys::exists(old));
    CHECK(fsys::exists(moved));
    CHECK(target.path() == moved);
    CHECK(m.path().empty());
  }
  CHECK(fsys::exists(kept));
  CHECK_FALSE(fsys::exists(moved));
}

TEST_CASE("temp path: remove_temp_paths_now removes what live owners hold, not what they released") {
  TempDir tmp;
  const std::string file = tmp.file("payload"), dir = tmp.file("fold"),
                    kept = tmp.file("renamed-into-place"), missing = tmp.file("never-created");
  TempPath f(file), d(dir), k(kept), m(missing);
  write_file(file, "data");
  make_flat_dir(dir);
  write_file(kept, "k");
  k.release();

  slip::fs::remove_temp_paths_now();
  CHECK_FALSE(fsys::exists(file));
  CHECK_FALSE(fsys::exists(dir));
  CHECK(fsys::exists(kept));
  // The owners still end normally afterwards.
}

TEST_CASE("temp path: more live paths than the table holds are still removed by their owners") {
  TempDir tmp;
  std::vector<std::string> paths;
  {
    std::vector<TempPath> owners;
    for (int i = 0; i < 100; ++i) {
      paths.push_back(tmp.file("f" + std::to_string(i)));
      write_file(paths.back(), "x");
      owners.emplace_back(paths.back());
    }
    slip::fs::remove_temp_paths_now();  // the first ones, up to the table's size
    CHECK_FALSE(fsys::exists(paths.front()));
    CHECK(fsys::exists(paths.back()));
  }
  for (const std::string& p : paths) CHECK_FALSE(fsys::exists(p));
}

namespace {
volatile std::sig_atomic_t g_exited = 0;
extern "C" void exit_unless_deferred(int sig) {
  if (slip::fs::defer_signal_exit(sig)) return;
  g_exited = 1;  // where the real handlers remove temporary paths and _exit
}
}  // namespace

TEST_CASE("temp path: a signal's exit waits for the end of a DeferSignalExit") {
  struct sigaction sa {}, old {};
  sa.sa_handler = exit_unless_deferred;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
  g_exited = 0;
  {
    slip::fs::DeferSignalExit outer;
    {
      slip::fs::DeferSignalExit inner;
      REQUIRE(::raise(SIGUSR1) == 0);
      CHECK(g_exited == 0);
    }
    CHECK(g_exited == 0);  // still inside the outer guard
  }
  CHECK(g_exited == 1);  // raised again as the last guard ended
  g_exited = 0;
  REQUIRE(::raise(SIGUSR1) == 0);  // no guard: at once
  CHECK(g_exited == 1);
  sigaction(SIGUSR1, &old, nullptr);
}
