#include <doctest/doctest.h>

#include <filesystem>

#include "slip/atomic_file.h"
#include "support/files.h"

namespace {
std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("atomic file: commit replaces the target, abandon leaves it untouched") {
  slip::test::TempDir dir;
  const std::string target = dir.file("t.txt");
  slip::test::write_file(target, "old");
  {
    auto file = slip::AtomicFile::create(target);
    REQUIRE(file.is_ok());
    CHECK((*file)->write("new ").is_ok());
    CHECK((*file)->write(std::string(3 << 20, 'x')).is_ok());  // larger than the buffer
    CHECK(slip::test::read_file(target) == "old");             // not visible before commit
    CHECK((*file)->commit().is_ok());
  }
  CHECK(slip::test::read_file(target) == "new " + std::string(3 << 20, 'x'));
  CHECK(entries(dir.path()) == 1);
  {
    auto file = slip::AtomicFile::create(target);
    REQUIRE(file.is_ok());
    CHECK((*file)->write("half").is_ok());
    CHECK(entries(dir.path()) == 2);
  }  // destroyed without commit, as on an error path
  CHECK(slip::test::read_file(target).substr(0, 4) == "new ");
  CHECK(entries(dir.path()) == 1);
}

TEST_CASE("atomic file: leftovers of a crashed writer are removed, live ones kept") {
  slip::test::TempDir dir;
  const std::string target = dir.file("fold.snap");
  // PID 2^22+1 is above Linux's pid_max default range: no such process.
  slip::test::write_file(dir.file(".fold.snap.slip-tmp.4194305.0"), "partial");
  slip::test::write_file(dir.file(".fold.snap.slip-tmp.1.0"), "init is alive");
  slip::test::write_file(dir.file(".other.slip-tmp.4194305.0"), "another target");
  CHECK(slip::remove_stale_temps(target) == 1);
  CHECK_FALSE(slip::test::file_exists(dir.file(".fold.snap.slip-tmp.4194305.0")));
  CHECK(slip::test::file_exists(dir.file(".fold.snap.slip-tmp.1.0")));
  CHECK(slip::test::file_exists(dir.file(".other.slip-tmp.4194305.0")));
}

TEST_CASE("atomic file: a directory target is refused") {
  slip::test::TempDir dir;
  auto file = slip::AtomicFile::create(dir.path());
  CHECK_FALSE(file.is_ok());
  CHECK(file.status().kind() == slip::StatusKind::kInvalidArgument);
}
