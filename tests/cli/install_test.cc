// What an operator installs: `cmake --install` into a temporary prefix puts
// every file in its standard place, the installed pages render and the
// installed completions load in their shells; cpack builds a .deb with the
// right contents and Depends; the systemd unit and the cron lines in
// contrib/ are valid and their command lines really mirror a bucket.
//
// Everything runs against the build directory this test binary belongs to
// (SLIP_BUILD_DIR), so a second checkout's tests check its own build.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/background.h"
#include "support/files.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::run_process;
using slip::test::run_slip;

namespace fs = std::filesystem;

namespace {

const std::string kSourceDir = SLIP_SOURCE_DIR;
const std::string kBuildDir = SLIP_BUILD_DIR;

bool have_program(const std::string& name) {
  return run_process({"sh", "-c", "command -v " + name + " >/dev/null"}).exit_code == 0;
}

// Installs the build into PREFIX; fails the test when cmake does.
void install_into(const std::string& prefix) {
  auto run = run_process({SLIP_CMAKE, "--install", kBuildDir, "--prefix", prefix});
  REQUIRE_MESSAGE(run.exit_code == 0, run.out << run.err);
}

std::vector<std::string> source_names(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/" + dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) names.push_back(name);
  }
  return names;
}

// Every regular file under ROOT, as paths relative to it.
std::set<std::string> files_under(const std::string& root) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_directory()) files.insert(fs::relative(entry.path(), root).string());
  }
  return files;
}

std::set<std::string> expected_install() {
  std::set<std::string> files = {
      "bin/slip",
      "share/bash-completion/completions/slip",
      "share/zsh/vendor-completions/_slip",
      "share/fish/vendor_completions.d/slip.fish",
      "lib/systemd/system/slip-mirror@.service",
      "share/doc/slip/README.md",
      "share/doc/slip/examples/mirror.env.example",
      "share/doc/slip/examples/slip-export",
  };
  // Gzipped, as Debian's policy asks.
  for (const std::string& page : source_names("man", ".1")) {
    files.insert("share/man/man1/" + page + ".gz");
  }
  for (const std::string& page : source_names("man", ".5")) {
    files.insert("share/man/man5/" + page + ".gz");
  }
  return files;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The value of KEY= in the unit file (the last one wins, as in systemd).
std::string unit_setting(const std::string& unit, const std::string& key) {
  std::istringstream in(unit);
  std::string value;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + "=", 0) == 0) value = line.substr(key.size() + 1);
  }
  return value;
}

// A bucket "routes" with one key on SERVER, made with the slip under test.
void make_bucket(const slip::test::NatsServer& server) {
  REQUIRE(run_slip({"kv", "add", "routes", "-s", server.url()}).exit_code == 0);
  REQUIRE(run_slip({"kv", "put", "routes", "eu.weight", "3", "-s", server.url()}).exit_code == 0);
}

void check_fold_has_key(const std::string& fold) {
  auto get = run_slip({"snapshot", "inspect", "--get", "eu.weight", fold});
  CHECK_MESSAGE(get.exit_code == 0, get.err);
  CHECK(get.out == "3");
}

}  // namespace

TEST_CASE("install: cmake --install puts every file in its standard place") {
  slip::test::TempDir prefix;
  install_into(prefix.path());

  const std::set<std::string> installed = files_under(prefix.path());
  const std::set<std::string> expected = expected_install();
  for (const std::string& file : expected) {
    CAPTURE(file);
    CHECK(installed.count(file) == 1);
  }
  for (const std::string& file : installed) {
    CAPTURE(file);
    CHECK_MESSAGE(expected.count(file) == 1, "installed but not expected");
  }

  struct stat st {};
  REQUIRE(stat(prefix.file("bin/slip").c_str(), &st) == 0);
  CHECK((st.st_mode & 0111) == 0111);
  auto version = run_process({prefix.file("bin/slip"), "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("slip ", 0) == 0);
}

TEST_CASE("install: man finds and renders every installed page without warnings") {
  slip::test::TempDir prefix;
  install_into(prefix.path());
  const std::string mandir = prefix.file("share/man");
  int pages = 0;
  for (const char* section : {"man1", "man5"}) {
    for (const auto& entry : fs::directory_iterator(mandir + "/" + std::string(section))) {
      const std::string page = entry.path().string();
      CAPTURE(page);
      auto rendered = run_process({"man", "--warnings=w", "-l", page}, "", {"MANWIDTH=80"});
      CHECK(rendered.exit_code == 0);
      CHECK_MESSAGE(rendered.err.empty(), rendered.err);
      CHECK(rendered.out.find("NAME") != std::string::npos);
      ++pages;
    }
  }
  CHECK(pages ==
        static_cast<int>(source_names("man", ".1").size() + source_names("man", ".5").size()));
  // Found by name through the installed tree, in both sections.
  auto by_name = run_process({"man", "-M", mandir, "slip-mirror"}, "", {"MANWIDTH=80"});
  CHECK(by_name.exit_code == 0);
  CHECK(by_name.out.find("slip-mirror") != std::string::npos);
  auto format = run_process({"man", "-M", mandir, "5", "slip-snapshot"}, "", {"MANWIDTH=80"});
  CHECK(format.exit_code == 0);
  CHECK(format.out.find("SLIP-SNAPSHOT(5)") != std::string::npos);
}

TEST_CASE("install: each installed completion loads in its shell") {
  slip::test::TempDir prefix;
  install_into(prefix.path());
  const std::string share = prefix.file("share");

  // bash-completion loads completions/NAME on demand for command NAME.
  auto bash = run_process({"bash", "--norc", "-c", "source \"$1\" && complete -p slip", "bash",
                           share + "/bash-completion/completions/slip"});
  CHECK_MESSAGE(bash.exit_code == 0, bash.err);
  CHECK(bash.out.find("complete -F _slip slip") != std::string::npos);

  if (have_program("zsh")) {
    // compinit reads #compdef from the files in fpath and autoloads _slip.
    auto zsh = run_process({"zsh", "-f", "-c",
                            "fpath=(\"$1\" $fpath); autoload -Uz compinit; compinit -u -D; "
                            "print -r -- \"$_comps[slip]\"; whence -w _slip",
                            "zsh", share + "/zsh/vendor-completions"},
                           "", {"HOME=" + prefix.path()});
    CHECK_MESSAGE(zsh.exit_code == 0, zsh.err);
    CHECK(zsh.out == "_slip\n_slip: function\n");
  } else {
    MESSAGE("zsh is not installed: _slip not loaded");
  }

  if (have_program("fish")) {
    // fish autoloads NAME.fish from a directory in $fish_complete_path, for
    // a command NAME that is in PATH.
    auto fish = run_process(
        {"fish", "--no-config", "-c", "set -p fish_complete_path $argv[1]; complete -C'slip '",
         share + "/fish/vendor_completions.d"},
        "", {"HOME=" + prefix.path(), "PATH=" + prefix.file("bin") + ":" + std::getenv("PATH")});
    CHECK_MESSAGE(fish.exit_code == 0, fish.err);
    for (const char* command : {"kv\t", "watch\t", "mirror\t", "snapshot\t"}) {
      CAPTURE(command);
      CHECK(fish.out.find(command) != std::string::npos);
    }
  } else {
    MESSAGE("fish is not installed: slip.fish not loaded");
  }
}

TEST_CASE("install: cpack builds a .deb with the files and the Depends") {
  if (!have_program("dpkg-deb")) {
    MESSAGE("dpkg-deb is not installed: .deb not built");
    return;
  }
  slip::test::TempDir out;
  // -B keeps cpack's staging tree and the package out of the build dir.
  auto cpack =
      run_process({SLIP_CPACK, "--config", kBuildDir + "/CPackConfig.cmake", "-B", out.path()});
  REQUIRE_MESSAGE(cpack.exit_code == 0, cpack.out << cpack.err);
  std::string deb;
  for (const auto& entry : fs::directory_iterator(out.path())) {
    if (entry.path().extension() == ".deb") deb = entry.path().string();
  }
  REQUIRE_MESSAGE(!deb.empty(), cpack.out);
  CHECK(fs::path(deb).filename().string().rfind("slip_", 0) == 0);

  auto info = run_process({"dpkg-deb", "-I", deb});
  REQUIRE(info.exit_code == 0);
  CAPTURE(info.out);
  CHECK(info.out.find(" Package: slip\n") != std::string::npos);
  CHECK(info.out.find(" Section: net\n") != std::string::npos);
  CHECK(info.out.find(" Maintainer: ") != std::string::npos);
  CHECK(info.out.find(" Description: toolkit for operators of NATS JetStream Key-Value buckets\n"
                      "  slip keeps local folds") != std::string::npos);
  const std::regex depends_line(R"( Depends: ([^\n]*))");
  std::smatch depends;
  REQUIRE(std::regex_search(info.out, depends, depends_line));
  for (const char* package :
       {"libnats3", "libleveldb1d", "libzstd1", "libcurl4", "libssl3", "libisal2", "libc6"}) {
    CAPTURE(package);
    CHECK(depends[1].str().find(package) != std::string::npos);
  }

  auto contents = run_process({"dpkg-deb", "-c", deb});
  REQUIRE(contents.exit_code == 0);
  for (const std::string& file : expected_install()) {
    CAPTURE(file);
    CHECK(contents.out.find(" ./usr/" + file + "\n") != std::string::npos);
  }
  CHECK(contents.out.find("-rwxr-xr-x root/root") != std::string::npos);
}

TEST_CASE("contrib: the systemd unit verifies and its command line mirrors a bucket" * doctest::test_suite("nats")) {
  const std::string unit =
      slip::test::read_file(kSourceDir + "/contrib/systemd/slip-mirror@.service");
  CHECK(unit_setting(unit, "DynamicUser") == "yes");
  CHECK(unit_setting(unit, "StateDirectory") == "slip/%i");
  CHECK(unit_setting(unit, "ProtectSystem") == "strict");
  CHECK(unit_setting(unit, "KillSignal") == "SIGTERM");
  CHECK(unit_setting(unit, "Restart") == "on-failure");
  CHECK(unit_setting(unit, "EnvironmentFile") == "-/etc/slip/mirror-%i.env");
  const std::string exec = unit_setting(unit, "ExecStart");
  REQUIRE(exec.rfind("/usr/bin/slip mirror %i ", 0) == 0);

  slip::test::TempDir prefix;
  install_into(prefix.path());
  if (have_program("systemd-analyze")) {
    // verify needs no running systemd. It checks that ExecStart's binary
    // exists and that man pages in Documentation= resolve, so point both at
    // the temporary install; the instance name makes it a concrete unit.
    slip::test::TempDir units;
    const std::string instance = units.file("slip-mirror@routes.service");
    slip::test::write_file(instance, replace_all(unit, "/usr/bin/slip", prefix.file("bin/slip")));
    auto verify = run_process({"systemd-analyze", "verify", instance}, "",
                              {"MANPATH=" + prefix.file("share/man"), "SYSTEMD_LOG_COLOR=0"});
    CHECK_MESSAGE(verify.exit_code == 0, verify.err);
    CHECK_MESSAGE(verify.err.empty(), verify.err);
  } else {
    MESSAGE("systemd-analyze is not installed: unit not verified");
  }

  // ExecStart as systemd would run it for slip-mirror@routes: %i is the
  // instance, %S /var/lib (here a temp dir, created as StateDirectory= would),
  // $SLIP_MIRROR_ARGS from the environment file (here --once).
  slip::test::NatsServer server;
  make_bucket(server);
  slip::test::TempDir state;
  fs::create_directories(state.file("slip/routes"));
  std::string command = replace_all(exec, "%i", "routes");
  command = replace_all(command, "%S", state.path());
  command = replace_all(command, "/usr/bin/slip", prefix.file("bin/slip"));
  auto run = run_process({"sh", "-c", command}, "",
                         {"SLIP_MIRROR_ARGS=--once", "NATS_URL=" + server.url()});
  CHECK_MESSAGE(run.exit_code == 0, command << "\n" << run.err);
  const std::string fold = state.file("slip/routes/fold.pgss");
  check_fold_has_key(fold);

  // Without extra arguments it follows the bucket, and SIGTERM (KillSignal=)
  // stops it with exit 0, which systemd counts as a clean stop.
  slip::test::BackgroundProcess daemon(
      {"env", "NATS_URL=" + server.url(), "SLIP_MIRROR_ARGS=", "sh", "-c", "exec " + command},
      state.file("daemon.out"));
  REQUIRE(run_slip({"kv", "put", "routes", "eu.weight", "4", "-s", server.url()}).exit_code == 0);
  const bool followed = slip::test::wait_until(
      [&] {
        auto get = run_slip({"snapshot", "inspect", "--get", "eu.weight", fold});
        return get.exit_code == 0 && get.out == "4";
      },
      std::chrono::seconds(10));
  CHECK(followed);
  CHECK(daemon.stop(SIGTERM) == 0);
}

TEST_CASE("contrib: the cron lines are well formed and the mirror line runs" * doctest::test_suite("nats")) {
  const std::string cron = slip::test::read_file(kSourceDir + "/contrib/cron/slip-export");
  std::istringstream in(cron);
  std::vector<std::string> jobs;
  // cron.d: NAME=VALUE, or five time fields, a user and the command.
  const std::regex job(R"(^([-*/,0-9]+\s+){5}slip\s+(.+)$)");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    CAPTURE(line);
    std::smatch m;
    if (std::regex_match(line, m, job)) {
      jobs.push_back(m[2]);
      CHECK(line.find('%') == std::string::npos);  // cron would cut the line there
    } else {
      CHECK(std::regex_match(line, std::regex(R"(^[A-Z_]+=\S+$)")));
    }
  }
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].find("slip mirror routes ") != std::string::npos);
  CHECK(jobs[0].find(" --once") != std::string::npos);
  CHECK(jobs[1].find("slip export --from ") != std::string::npos);

  // Both lines run as written, with the host paths moved into a temp dir.
  slip::test::NatsServer server;
  make_bucket(server);
  slip::test::TempDir root;
  fs::create_directories(root.file("var/lib/slip-cron"));
  fs::create_directories(root.file("run/lock"));
  fs::create_directories(root.file("etc/slip"));
  fs::create_directories(root.file("srv/backup"));
  slip::test::write_file(root.file("etc/slip/cron.env"), "NATS_URL=" + server.url() + "\n");
  auto localize = [&](std::string command) {
    for (const char* dir : {"/etc/slip/", "/var/lib/slip-cron/", "/run/lock/", "/srv/backup/"}) {
      command = replace_all(command, std::string(" ") + dir, " " + root.path() + dir);
      command = replace_all(command, std::string("file://") + dir, "file://" + root.path() + dir);
    }
    return command;
  };
  const std::string path =
      "PATH=" + fs::path(SLIP_BINARY).parent_path().string() + ":/usr/bin:/bin";
  const std::string mirror = localize(jobs[0]);
  auto run = run_process({"sh", "-c", mirror}, "", {path, "NATS_URL"});
  CHECK_MESSAGE(run.exit_code == 0, mirror << "\n" << run.err);
  check_fold_has_key(root.file("var/lib/slip-cron/routes.pgss"));

  if (run_slip({"export", "--help"}).exit_code != 0) {
    MESSAGE("slip has no export command yet: the nightly line is not run");
    return;
  }
  const std::string exported = localize(jobs[1]);
  auto nightly = run_process({"sh", "-c", exported}, "", {path, "NATS_URL"});
  CHECK_MESSAGE(nightly.exit_code == 0, exported << "\n" << nightly.err);
  CHECK_FALSE(files_under(root.file("srv/backup")).empty());
}
