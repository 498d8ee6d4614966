// README.md cannot rot: every shell block in it is run against a throwaway
// nats-server, with the built slip first in PATH, in an empty directory.
//
// A fenced block whose info string starts with sh, bash or shell is run, in
// file order, each in its own `bash -euo pipefail` in the same directory (so
// files carry over from block to block, shell variables do not). Attributes
// after the language:
//   no-test          not run (starting a server by hand, installing)
//   needs=a,b        run once `slip a --help` and `slip b --help` succeed;
//                    reported as skipped until then
// Any other attribute fails the test, so a typo cannot silently skip a block.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/files.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::run_process;
using slip::test::run_slip;

namespace {

const std::string kSourceDir = SLIP_SOURCE_DIR;

struct Block {
  int line = 0;  // of the opening fence, 1-based
  std::string language;
  std::vector<std::string> attributes;
  std::string text;
};

std::vector<Block> fenced_blocks(const std::string& markdown) {
  std::vector<Block> blocks;
  std::istringstream in(markdown);
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("```", 0) != 0) {
      if (open != nullptr) open->text += line + "\n";
      continue;
    }
    if (open != nullptr) {
      open = nullptr;
      continue;
    }
    Block block;
    block.line = number;
    std::istringstream info(line.substr(3));
    info >> block.language;
    for (std::string word; info >> word;) block.attributes.push_back(word);
    blocks.push_back(block);
    open = &blocks.back();
  }
  REQUIRE_MESSAGE(open == nullptr, "README.md: a fence is not closed");
  return blocks;
}

bool is_shell(const Block& block) {
  return block.language == "sh" || block.language == "bash" || block.language == "shell";
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
  return parts;
}

std::string bin_dir() { return std::filesystem::path(SLIP_BINARY).parent_path().string(); }

}  // namespace

TEST_CASE("readme: every shell block runs against a real server" * doctest::test_suite("nats")) {
  const auto blocks = fenced_blocks(slip::test::read_file(kSourceDir + "/README.md"));
  slip::test::NatsServer server;
  slip::test::TempDir work;
  const std::vector<std::string> env = {"PATH=" + bin_dir() + ":" + std::getenv("PATH"),
                                        "NATS_URL=" + server.url(), "HOME=" + work.path(),
                                        "XDG_CONFIG_HOME=" + work.file(".config"), "NO_COLOR=1"};
  int ran = 0;
  int skipped = 0;
  std::string printed;
  for (const Block& block : blocks) {
    if (!is_shell(block)) continue;
    CAPTURE(block.line);
    bool run = true;
    for (const std::string& attribute : block.attributes) {
      if (attribute == "no-test") {
        run = false;
      } else if (attribute.rfind("needs=", 0) == 0) {
        for (const std::string& command : split(attribute.substr(6), ',')) {
          if (run_slip({command, "--help"}).exit_code != 0) {
            MESSAGE("README.md:" << block.line << " skipped: slip has no '" << command
                                 << "' command yet");
            run = false;
          }
        }
      } else {
        FAIL_CHECK("README.md:" << block.line << ": unknown block attribute '" << attribute
                                << "' (use no-test or needs=CMD,...)");
        run = false;
      }
    }
    if (!run) {
      ++skipped;
      continue;
    }
    // timeout(1) signals its whole process group, so a stuck background
    // watch cannot outlive a block.
    auto result =
        run_process({"sh", "-c", "cd \"$1\" && exec timeout -k 5 60 bash -euo pipefail -c \"$2\"",
                     "sh", work.path(), block.text},
                    "", env);
    CHECK_MESSAGE(result.exit_code == 0, "README.md:" << block.line << " exited "
                                                      << result.exit_code << "\n--- block:\n"
                                                      << block.text << "--- stdout:\n"
                                                      << result.out << "--- stderr:\n"
                                                      << result.err);
    printed += result.out;
    ++ran;
  }
  CHECK(ran >= 5);      // the tour and the forensics at least
  CHECK(skipped >= 3);  // the top commands, starting a server, installing

  // Spot checks on what the tour claims, beyond exit statuses.
  CHECK(printed.find("lost the race: exit 1\n") != std::string::npos);
  CHECK(printed.find("no such key: exit 1\n") != std::string::npos);
  CHECK(printed.find("{\"pool\":\"edge-2\"}\n") != std::string::npos);
  // The background watch got exactly the one update after $rev.
  const std::string next = slip::test::read_file(work.file("next.jsonl"));
  CHECK(next.find("\"key\":\"us.weight\"") != std::string::npos);
  CHECK(std::count(next.begin(), next.end(), '\n') == 1);
  // The watch resumed from its cursor file: its last batch is the one new update.
  const std::string applied = slip::test::read_file(work.file("applied.log"));
  const std::size_t last = applied.find_last_of('\n', applied.size() >= 2 ? applied.size() - 2 : 0);
  CHECK(applied.substr(last == std::string::npos ? 0 : last + 1) == "1\n");
}

TEST_CASE("readme: the top commands exist and local links resolve") {
  const std::string readme = slip::test::read_file(kSourceDir + "/README.md");
  const auto blocks = fenced_blocks(readme);
  REQUIRE_FALSE(blocks.empty());
  const Block& top = blocks.front();
  CHECK(top.text.find("./scripts/demo") != std::string::npos);
  CHECK(top.text.find("./scripts/test") != std::string::npos);
  for (const char* script : {"/scripts/demo", "/scripts/test"}) {
    CAPTURE(script);
    CHECK(access((kSourceDir + script).c_str(), X_OK) == 0);
  }
  // [text](path) links that are not URLs or anchors name files in the repo.
  const std::regex link(R"(\]\(([^)#:]+)\))");
  int links = 0;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), link);
       it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[1];
    CAPTURE(target);
    CHECK(std::filesystem::exists(kSourceDir + "/" + target));
    ++links;
  }
  CHECK(links >= 5);
}
