// HashingWriter: the file and the digest are those of every chunk in order;
// a failing write reaches the producer instead of being lost on the thread.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "artifact/hashing_writer.h"
#include "support/files.h"

using slip::artifact::HashingWriter;
using slip::artifact::Sha256;

TEST_CASE("hashing writer: the file and the SHA-256 are every chunk, in order") {
  slip::test::TempDir tmp;
  const std::string path = tmp.file("out");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  std::string all;
  {
    HashingWriter writer(fd, path);
    for (int i = 0; i < 200; ++i) {
      // Sizes from 0 to ~64 KiB, more chunks than the queue holds.
      std::string chunk(static_cast<std::size_t>((i * 7919) % 65536),
                        static_cast<char>('a' + i % 26));
      all += chunk;
      REQUIRE(writer.write(chunk.data(), chunk.size()).is_ok());
    }
    auto digest = writer.finish();
    REQUIRE(digest.is_ok());
    CHECK(*digest == Sha256::hex_of(all));
  }
  ::close(fd);
  CHECK(slip::test::read_file(path) == all);
}

TEST_CASE("hashing writer: a write error comes back to the producer") {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  HashingWriter writer(fd, "/dev/full");
  slip::Status first;
  // The error surfaces in a later write() or, at the latest, in finish().
  for (int i = 0; i < 50 && first.is_ok(); ++i) {
    const std::string page(4096, 'x');
    first = writer.write(page.data(), page.size());
  }
  auto digest = writer.finish();
  CHECK_FALSE(digest.is_ok());
  CHECK(digest.status().kind() == slip::StatusKind::kIOError);
  CHECK(digest.status().message().find("/dev/full") != std::string::npos);
  ::close(fd);
}
