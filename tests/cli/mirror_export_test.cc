// `slip mirror --export-to`: the running mirror publishes its fold, with
// the cursor it has applied, and the artifact imports into an equal fold.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "slip/exit_codes.h"
#include "support/background.h"
#include "support/files.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/silent_server.h"

using slip::test::BackgroundProcess;
using slip::test::NatsServer;
using slip::test::run_slip;
using slip::test::wait_until;
using namespace std::chrono_literals;

namespace {

void put(const NatsServer& s, const std::string& key, const std::string& value) {
  auto r = run_slip({"kv", "put", "cfg", key, value, "-s", s.url()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

// The cursor of the artifact the pointer names under LOCATION, or 0.
std::uint64_t current_cursor(const std::string& location) {
  auto ls = run_slip({"export", "ls", location, "--json"});
  if (ls.exit_code != 0) return 0;
  std::istringstream in(ls.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["current"].get<bool>()) return j["cursor"].get<std::uint64_t>();
  }
  return 0;
}

}  // namespace

TEST_CASE("mirror --export-to: --once exports the fold at exactly its cursor" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 20; ++i) put(server, "k" + std::to_string(i), "v" + std::to_string(i));
  slip::test::TempDir dir;
  const std::string location = "file://" + dir.file("exports");
  auto r = run_slip({"mirror", "cfg", "--to", dir.file("fold.snap"), "--once", "--export-to",
                     location, "-s", server.url()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("exported cursor 20 (20 keys") != std::string::npos);
  CHECK(current_cursor(location) == 20);
  auto imported = run_slip({"import", location, "--to", dir.file("imported.snap")});
  REQUIRE_MESSAGE(imported.exit_code == 0, imported.err);
  auto same = run_slip({"diff", dir.file("fold.snap"), dir.file("imported.snap")});
  CHECK_MESSAGE(same.exit_code == 0, same.out << same.err);

  SUBCASE("--export-every without --export-to is a usage error") {
    auto bad = run_slip(
        {"mirror", "cfg", "--to", dir.file("x.snap"), "--export-every", "1m", "-s", server.url()});
    CHECK(bad.exit_code == slip::exit_code::kUsage);
  }
}

TEST_CASE("mirror --export-to: a running mirror exports as it goes, never past its fold" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 10; ++i) put(server, "a" + std::to_string(i), "v");
  slip::test::TempDir dir;
  const std::string location = "file://" + dir.file("exports");
  const std::string fold = dir.file("fold.snap");
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "cfg", "--to", fold, "--export-to", location,
                            "--export-every", "200ms", "-s", server.url()},
                           dir.file("mirror.out"));
  REQUIRE(wait_until([&] { return current_cursor(location) == 10; }, 15s));
  for (int i = 0; i < 5; ++i) put(server, "b" + std::to_string(i), "w");
  REQUIRE(wait_until([&] { return current_cursor(location) == 15; }, 15s));
  CHECK(mirror.stop(SIGTERM) == 0);
  // The newest artifact is the whole fold as of the mirror's cursor.
  auto imported = run_slip({"import", location, "--to", dir.file("imported.snap")});
  REQUIRE_MESSAGE(imported.exit_code == 0, imported.err);
  auto same = run_slip({"diff", fold, dir.file("imported.snap")});
  CHECK_MESSAGE(same.exit_code == 0, same.out << same.err);
  // Each artifact's cursor was the fold's at the time: several were made.
  auto ls = run_slip({"export", "ls", location, "--json"});
  REQUIRE(ls.exit_code == 0);
  CHECK(std::count(ls.out.begin(), ls.out.end(), '\n') >= 2);
}

TEST_CASE("mirror --export-to: a stop interrupts an upload in flight instead of waiting for it" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "cfg", "-s", server.url()}).exit_code == 0);
  for (int i = 0; i < 20; ++i) put(server, "k" + std::to_string(i), "v" + std::to_string(i));
  slip::test::SilentServer silent;
  slip::test::TempDir dir;
  const std::string scratch = dir.file("scratch");
  std::filesystem::create_directory(scratch);
  BackgroundProcess mirror(
      {"env", "TMPDIR=" + scratch, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=x",
       "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + silent.endpoint(), SLIP_BINARY, "mirror",
       "cfg", "--to", dir.file("fold.snap"), "--export-to", "s3://b/exports", "-s", server.url()},
      dir.file("out"));
  // The event: caught up, the fold staged, and the export's first request
  // (its manifest lookup) waiting on a server that never answers (the S3
  // retries alone would take minutes).
  REQUIRE(wait_until([&] { return silent.connected(); }, 30s));
  REQUIRE(::kill(mirror.pid(), SIGTERM) == 0);
  CHECK(mirror.wait(10s) == slip::exit_code::kOk);  // stopped by a signal
  const std::string err = slip::test::read_file(dir.file("out.err"));
  CHECK(err.find("export interrupted by the stop") != std::string::npos);
  CHECK(std::filesystem::is_empty(scratch));  // the staged payload went with it
}
