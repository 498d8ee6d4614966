// The slip binary run as a process: exit codes, one-line errors, output
// formats and file safety of the snapshot commands.
#include <doctest/doctest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <filesystem>

#include "fold/lock.h"
#include "slip/exit_codes.h"
#include "slip/snapshot.h"
#include "support/files.h"
#include "support/process.h"
#include "support/snapshot_model.h"

using nlohmann::json;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

std::string fixture(const std::string& name) { return slip::test::fixture_dir() + "/" + name; }

// A one-line error: starts with "slip: error: ", ends in exactly one newline.
void check_one_line_error(const slip::test::ProcessResult& run) {
  CHECK(run.err.rfind("slip: error: ", 0) == 0);
  REQUIRE_FALSE(run.err.empty());
  CHECK(run.err.find('\n') == run.err.size() - 1);
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("cli: bad input gives one-line errors and the documented exit codes") {
  slip::test::TempDir dir;
  for (const char* command : {"inspect", "verify", "compact", "dump"}) {
    CAPTURE(command);
    auto missing = run_slip({"snapshot", command, dir.file("nope.snap")});
    CHECK(missing.exit_code == ec::kUsage);
    check_one_line_error(missing);
    CHECK(missing.err.find("nope.snap") != std::string::npos);

    auto directory = run_slip({"snapshot", command, dir.path()});
    CHECK(directory.exit_code == ec::kUsage);
    check_one_line_error(directory);

    slip::test::write_file(dir.file("empty"), "");
    auto empty = run_slip({"snapshot", command, dir.file("empty")});
    CHECK(empty.exit_code == ec::kDamaged);
    check_one_line_error(empty);
    CHECK(empty.err.find("too short") != std::string::npos);

    slip::test::write_file(dir.file("text.txt"), "hello, this is not a snapshot\n");
    auto text = run_slip({"snapshot", command, dir.file("text.txt")});
    CHECK(text.exit_code == ec::kDamaged);
    check_one_line_error(text);
    CHECK(text.err.find("bad magic") != std::string::npos);
    CHECK(slip::test::read_file(dir.file("text.txt")) == "hello, this is not a snapshot\n");
  }
}

TEST_CASE("cli: a file without read permission is exit 4") {
  slip::test::TempDir dir;
  const std::string path = dir.file("secret.snap");
  slip::test::write_file(path, slip::test::read_file(fixture("basic.snap")));
  ::chmod(path.c_str(), 0);
  std::vector<std::string> argv;
  // Root reads anything: drop to an unprivileged user for this one command.
  if (::geteuid() == 0) argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  argv.push_back(SLIP_BINARY);
  for (const char* a : {"snapshot", "verify"}) argv.push_back(a);
  argv.push_back(path);
  auto run = slip::test::run_process(argv);
  CHECK(run.exit_code == ec::kUnavailable);
  check_one_line_error(run);
  CHECK(run.err.find("Permission denied") != std::string::npos);
}

TEST_CASE("cli: usage errors are exit 2 with a hint") {
  auto unknown = run_slip({"snapshto", "verify", "x"});
  CHECK(unknown.exit_code == ec::kUsage);
  check_one_line_error(unknown);
  CHECK(unknown.err.find("did you mean 'snapshot'") != std::string::npos);

  auto nested = run_slip({"snapshot", "verfy", "x"});
  CHECK(nested.exit_code == ec::kUsage);
  CHECK(nested.err.find("did you mean 'verify'") != std::string::npos);

  auto missing_arg = run_slip({"snapshot", "verify"});
  CHECK(missing_arg.exit_code == ec::kUsage);
  check_one_line_error(missing_arg);

  auto bad_flag = run_slip({"snapshot", "verify", "--frobnicate", fixture("basic.snap")});
  CHECK(bad_flag.exit_code == ec::kUsage);
  check_one_line_error(bad_flag);

  auto none = run_slip({});
  CHECK(none.exit_code == ec::kUsage);
  check_one_line_error(none);
}

TEST_CASE("cli: --help and --version go to stdout with exit 0") {
  auto help = run_slip({"snapshot", "verify", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--repair") != std::string::npos);
  CHECK(help.out.find("EXIT STATUS") != std::string::npos);
  auto version = run_slip({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("slip ", 0) == 0);
  CHECK(version.out.find("\ncnats 3.") != std::string::npos);
  CHECK(version.out.find("\nleveldb ") != std::string::npos);
  CHECK(version.out.find("\nzstd 1.") != std::string::npos);
  CHECK(version.out.find("\nlibcurl 7.") != std::string::npos);
  CHECK(version.out.find("\nOpenSSL 3.") != std::string::npos);
}

TEST_CASE("cli: a closed stdout ends the dump quietly with exit 0") {
  slip::test::TempDir dir;
  std::vector<slip::test::Op> ops;
  for (int i = 0; i < 20000; ++i) {
    ops.push_back({slip::snapshot::RecordType::kPut, "key/" + std::to_string(i),
                   std::string(50, 'v'), slip::VersionToken::from_revision(i + 1)});
  }
  slip::test::write_file(dir.file("big.snap"), slip::test::encode_ops(ops));
  auto run =
      slip::test::run_process({"bash", "-c",
                               std::string(SLIP_BINARY) + " snapshot dump " + dir.file("big.snap") +
                                   " | head -n 1 >/dev/null; echo ${PIPESTATUS[0]}"});
  CHECK(run.out == "0\n");
  CHECK(run.err.empty());
}

TEST_CASE("cli: verify --repair truncates a torn tail and keeps a backup") {
  slip::test::TempDir dir;
  const std::string original = slip::test::read_file(fixture("torn-tail.snap"));
  const std::string path = dir.file("torn.snap");
  slip::test::write_file(path, original);

  auto before = run_slip({"snapshot", "verify", path});
  CHECK(before.exit_code == ec::kNegative);
  CHECK(before.out.find("torn_tail at offset 263") != std::string::npos);

  auto repair = run_slip({"snapshot", "verify", "--repair", "--json", path});
  CHECK(repair.exit_code == ec::kOk);
  json j = json::parse(repair.out);
  CHECK(j["repaired"] == true);
  CHECK(j["backup"] == path + ".bak");
  CHECK(slip::test::read_file(path + ".bak") == original);
  CHECK(slip::test::read_file(path) == original.substr(0, 263));
  CHECK(run_slip({"snapshot", "verify", path}).exit_code == ec::kOk);

  slip::test::write_file(path, original);
  auto no_backup = run_slip({"snapshot", "verify", "--repair", "--no-backup", path});
  CHECK(no_backup.exit_code == ec::kOk);
  CHECK(slip::test::read_file(path).size() == 263);

  // Corrupted files are never touched.
  const std::string corrupt = slip::test::read_file(fixture("corrupt-mid.snap"));
  slip::test::write_file(dir.file("corrupt.snap"), corrupt);
  auto refused = run_slip({"snapshot", "verify", "--repair", dir.file("corrupt.snap")});
  CHECK(refused.exit_code == ec::kDamaged);
  check_one_line_error(refused);
  CHECK(slip::test::read_file(dir.file("corrupt.snap")) == corrupt);
  CHECK_FALSE(slip::test::file_exists(dir.file("corrupt.snap.bak")));
}

TEST_CASE("cli: compact and verify --repair leave alone a log fold another process holds") {
  slip::test::TempDir dir;
  const std::string original = slip::test::read_file(fixture("torn-tail.snap"));
  const std::string path = dir.file("fold.snap");
  slip::test::write_file(path, original);
  {
    // What a running mirror holds (its store created FILE.lock).
    auto held = slip::fold::FileLock::acquire_fold(path, "log");
    REQUIRE(held.is_ok());
    for (auto args : {std::vector<std::string>{"snapshot", "compact", path},
                      std::vector<std::string>{"snapshot", "verify", "--repair", path}}) {
      CAPTURE(args[1]);
      auto busy = run_slip(args);
      CHECK(busy.exit_code == ec::kUnavailable);
      check_one_line_error(busy);
      CHECK(busy.err.find("in use by another slip process") != std::string::npos);
      CHECK(slip::test::read_file(path) == original);
    }
  }
  // Released: both work on it.
  CHECK(run_slip({"snapshot", "verify", "--repair", "--no-backup", path}).exit_code == ec::kOk);
  CHECK(run_slip({"snapshot", "compact", path}).exit_code == ec::kOk);
  // A plain snapshot file rewritten in place gets no lock file of its own.
  const std::string plain = dir.file("plain.snap");
  slip::test::write_file(plain, original);
  CHECK(run_slip({"snapshot", "compact", plain}).exit_code == ec::kOk);
  CHECK_FALSE(slip::test::file_exists(plain + ".lock"));
}

TEST_CASE("cli: compact produces the canonical fixture, byte for byte") {
  slip::test::TempDir dir;
  const std::string path = dir.file("basic.snap");
  slip::test::write_file(path, slip::test::read_file(fixture("basic.snap")));
  auto check = run_slip({"snapshot", "compact", "--check", path});
  CHECK(check.exit_code == ec::kNegative);
  CHECK(run_slip({"snapshot", "compact", "--check", fixture("compacted.snap")}).exit_code ==
        ec::kOk);

  auto run = run_slip({"snapshot", "compact", path});
  CHECK(run.exit_code == ec::kOk);
  CHECK(run.out.find("263 -> 127 bytes") != std::string::npos);
  CHECK(slip::test::read_file(path) == slip::test::read_file(fixture("compacted.snap")));
  CHECK(files_in(dir.path()) == std::vector<std::string>{"basic.snap"});  // no temporary left

  // Again: already canonical, left byte-identical.
  struct stat before;
  ::stat(path.c_str(), &before);
  auto again = run_slip({"snapshot", "compact", path});
  CHECK(again.exit_code == ec::kOk);
  CHECK(again.out.find("already canonical") != std::string::npos);
  struct stat after;
  ::stat(path.c_str(), &after);
  CHECK(before.st_ino == after.st_ino);
}

TEST_CASE("cli: compact -o leaves the input alone; a torn tail is dropped and reported") {
  slip::test::TempDir dir;
  const std::string torn = slip::test::read_file(fixture("torn-tail.snap"));
  slip::test::write_file(dir.file("torn.snap"), torn);
  auto run = run_slip({"snapshot", "compact", dir.file("torn.snap"), "-o", dir.file("out.snap")});
  CHECK(run.exit_code == ec::kOk);
  CHECK(run.out.find("dropped torn tail at offset 263 (68 bytes)") != std::string::npos);
  CHECK(slip::test::read_file(dir.file("torn.snap")) == torn);
  CHECK(slip::test::read_file(dir.file("out.snap")) ==
        slip::test::read_file(fixture("compacted.snap")));
}

TEST_CASE("cli: compact refuses corrupted and invalid input and writes nothing") {
  slip::test::TempDir dir;
  for (const char* name :
       {"corrupt-mid.snap", "unknown-type.snap", "bad-magic.snap", "version-1.snap"}) {
    CAPTURE(name);
    const std::string bytes = slip::test::read_file(fixture(name));
    slip::test::write_file(dir.file("in.snap"), bytes);
    auto in_place = run_slip({"snapshot", "compact", dir.file("in.snap")});
    CHECK(in_place.exit_code == ec::kDamaged);
    check_one_line_error(in_place);
    auto to_out =
        run_slip({"snapshot", "compact", dir.file("in.snap"), "-o", dir.file("out.snap")});
    CHECK(to_out.exit_code == ec::kDamaged);
    CHECK(slip::test::read_file(dir.file("in.snap")) == bytes);
    CHECK(files_in(dir.path()) == std::vector<std::string>{"in.snap"});
  }
}

TEST_CASE("cli: inspect reports counts, --keys and --get") {
  auto run = run_slip({"snapshot", "inspect", "--json", fixture("basic.snap")});
  CHECK(run.exit_code == ec::kOk);
  json j = json::parse(run.out);
  CHECK(j["format_version"] == 2);
  CHECK(j["file_size"] == 263);
  CHECK(j["records"] == json{{"put", 4}, {"delete", 1}, {"cursor", 2}, {"total", 7}});
  CHECK(j["live_keys"] == 2);
  // Live: the latest PUT of each live key (61 + 46 bytes) and the last cursor (14).
  CHECK(j["live_bytes"] == 121);
  CHECK(j["dead_bytes"] == 263 - 6 - 121);
  CHECK(j["cursor"] == 5);
  CHECK(j["canonical"] == false);
  CHECK(j["status"] == "ok");

  auto text = run_slip({"snapshot", "inspect", fixture("basic.snap")});
  CHECK(text.exit_code == ec::kOk);
  CHECK(text.out.find("cursor:     5") != std::string::npos);

  auto keys = run_slip({"snapshot", "inspect", "--keys", fixture("basic.snap")});
  CHECK(keys.out == "cert/edge.pem\nnode.us-east-1\n");

  auto get = run_slip({"snapshot", "inspect", "--get", "node.us-east-1", fixture("basic.snap")});
  CHECK(get.exit_code == ec::kOk);
  CHECK(get.out == "{\"weight\":5}");

  auto binary =
      run_slip({"snapshot", "inspect", "--get", "ключ/δ", fixture("binary-and-unicode.snap")});
  CHECK(binary.exit_code == ec::kOk);
  REQUIRE(binary.out.size() == 256);
  for (int i = 0; i < 256; ++i) CHECK(static_cast<unsigned char>(binary.out[i]) == i);

  auto absent = run_slip({"snapshot", "inspect", "--get", "node.eu-west-1", fixture("basic.snap")});
  CHECK(absent.exit_code == ec::kNegative);
  CHECK(absent.out.empty());

  auto torn = run_slip({"snapshot", "inspect", "--json", fixture("torn-tail.snap")});
  CHECK(torn.exit_code == ec::kOk);
  CHECK(json::parse(torn.out)["status"] == "torn_tail");

  auto fdb = run_slip({"snapshot", "inspect", "--json", fixture("fdb-versionstamp.snap")});
  CHECK(json::parse(fdb.out)["cursor"] == "0b0c0d0e0f1011121314");
}
