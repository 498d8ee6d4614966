// The committed man pages and completion scripts are exactly what the binary
// generates from its command definitions, and the shells accept them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "command.h"
#include "generate.h"
#include "support/files.h"
#include "support/process.h"

using slip::test::run_process;
using slip::test::run_slip;

namespace {

const std::string kSourceDir = SLIP_SOURCE_DIR;
const std::string kStale = "run scripts/generate-docs";

std::vector<std::string> names_in(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Asserts that FILE in GENERATED_DIR has the same bytes as in COMMITTED_DIR.
void check_committed(const std::string& generated_dir, const std::string& committed_dir,
                     const std::string& file) {
  CAPTURE(file);
  const std::string committed = committed_dir + "/" + file;
  if (!slip::test::file_exists(committed)) {
    FAIL_CHECK(committed << " is missing: " << kStale);
    return;
  }
  const bool same =
      slip::test::read_file(generated_dir + "/" + file) == slip::test::read_file(committed);
  CHECK_MESSAGE(same, committed << " is stale: " << kStale);
}

bool have_program(const std::string& name) {
  return run_process({"sh", "-c", "command -v " + name + " >/dev/null"}).exit_code == 0;
}

// "slip-snapshot-verify" for every visible command without subcommands.
void collect_leaves(const CLI::App& app, const std::string& page, std::vector<std::string>* out) {
  auto subs = app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
  if (subs.empty()) out->push_back(page);
  for (const CLI::App* sub : subs) collect_leaves(*sub, page + "-" + sub->get_name(), out);
}

// Runs the committed bash completion for WORDS (the last one is being
// completed) in DIR; returns the candidates, one per line.
std::string bash_complete(const std::vector<std::string>& words, const std::string& dir) {
  std::string script = "source \"$1\"; cd \"$2\" || exit 9; COMP_WORDS=(";
  for (const std::string& word : words) script += " '" + word + "'";
  script += " ); COMP_CWORD=" + std::to_string(words.size() - 1) +
            "; COMPREPLY=(); _slip; printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto run = run_process(
      {"bash", "--norc", "-c", script, "bash", kSourceDir + "/completions/slip.bash", dir});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  return run.out;
}

}  // namespace

TEST_CASE("generate: committed man pages are what the binary generates") {
  slip::test::TempDir tmp;
  const std::string out = tmp.file("man");  // does not exist yet: generate creates it
  auto run = run_slip({"generate", "man", "-o", out});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.empty());

  const std::vector<std::string> generated = names_in(out, ".1");
  REQUIRE_FALSE(generated.empty());
  for (const std::string& page : generated) check_committed(out, kSourceDir + "/man", page);
  // A page whose command is gone is stale too.
  for (const std::string& page : names_in(kSourceDir + "/man", ".1")) {
    CAPTURE(page);
    CHECK_MESSAGE(std::find(generated.begin(), generated.end(), page) != generated.end(),
                  "man/" << page << " documents no command: " << kStale);
  }
}

TEST_CASE("generate: every command has a man page and hidden ones have none") {
  slip::test::TempDir tmp;
  REQUIRE(run_slip({"generate", "man", "-o", tmp.path()}).exit_code == 0);
  slip::cli::Registry registry;
  auto app = slip::cli::build_app(registry);
  std::vector<std::string> leaves;
  collect_leaves(*app, "slip", &leaves);
  CHECK(std::find(leaves.begin(), leaves.end(), "slip-snapshot-verify") != leaves.end());
  for (const std::string& leaf : leaves) {
    CAPTURE(leaf);
    CHECK(slip::test::file_exists(tmp.file(leaf + ".1")));
  }
  CHECK(slip::test::file_exists(tmp.file("slip.1")));
  CHECK(slip::test::file_exists(tmp.file("slip-snapshot.1")));
  CHECK_FALSE(slip::test::file_exists(tmp.file("slip-generate.1")));

  const std::string top = slip::test::read_file(tmp.file("slip.1"));
  CHECK(top.find(".SH \"EXIT STATUS\"") != std::string::npos);
  CHECK(top.find("130@T{\ninterrupted (SIGINT or SIGTERM") != std::string::npos);
  CHECK(top.find(".SH \"JSON OUTPUT\"") != std::string::npos);
  CHECK(top.find("\\fBslip\\-snapshot\\fR(5)") != std::string::npos);
  // Reproducible: no date in .TH.
  CHECK(top.find(".TH \"SLIP\" \"1\" \"\" \"slip 0.1.0\"") != std::string::npos);
}

TEST_CASE("generate: committed completion scripts are what the binary generates") {
  struct Shell {
    const char* name;
    const char* file;
  };
  for (const Shell& shell :
       {Shell{"bash", "slip.bash"}, Shell{"zsh", "_slip"}, Shell{"fish", "slip.fish"}}) {
    CAPTURE(shell.name);
    slip::test::TempDir tmp;
    auto run = run_slip({"generate", shell.name, "-o", tmp.path()});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.out.empty());
    check_committed(tmp.path(), kSourceDir + "/completions", shell.file);
    // Without -o the script goes to standard output, byte for byte.
    auto to_stdout = run_slip({"generate", shell.name});
    CHECK(to_stdout.exit_code == 0);
    CHECK(to_stdout.out == slip::test::read_file(tmp.file(shell.file)));
  }
}

TEST_CASE("generate: man pages need an output directory") {
  auto run = run_slip({"generate", "man"});
  CHECK(run.exit_code == 2);
  CHECK(run.out.empty());
  CHECK(run.err.rfind("slip: error: ", 0) == 0);
  CHECK(run.err.find("-o DIR") != std::string::npos);
  CHECK(run.err.find('\n') == run.err.size() - 1);

  CHECK(run_slip({"generate", "troff"}).exit_code == 2);
}

TEST_CASE("generate: the shells accept the completion scripts") {
  const std::string dir = kSourceDir + "/completions/";
  auto bash = run_process({"bash", "-n", dir + "slip.bash"});
  CHECK_MESSAGE(bash.exit_code == 0, bash.err);

  if (have_program("zsh")) {
    auto zsh = run_process({"zsh", "-n", dir + "_slip"});
    CHECK_MESSAGE(zsh.exit_code == 0, zsh.err);
  } else {
    MESSAGE("zsh is not installed: _slip not checked");
  }
  if (have_program("fish")) {
    auto fish = run_process({"fish", "-n", dir + "slip.fish"});
    CHECK_MESSAGE(fish.exit_code == 0, fish.err);
  } else {
    MESSAGE("fish is not installed: slip.fish not checked");
  }
}

TEST_CASE("generate: bash completes commands and flags and file names") {
  slip::test::TempDir tmp;
  slip::test::write_file(tmp.file("a.snap"), "");
  const std::string d = tmp.path();

  CHECK(bash_complete({"slip", "sn"}, d) == "snapshot\n");
  CHECK(bash_complete({"slip", "snapshot", "v"}, d) == "verify\n");
  const std::string flags = bash_complete({"slip", "snapshot", "verify", "--re"}, d);
  CHECK(flags == "--repair\n");
  // FILE positionals and OUT values complete file names; KEY values nothing.
  CHECK(bash_complete({"slip", "snapshot", "verify", "a"}, d) == "a.snap\n");
  CHECK(bash_complete({"slip", "snapshot", "compact", "-o", "a"}, d) == "a.snap\n");
  CHECK(bash_complete({"slip", "snapshot", "compact", "--output", "=", "a"}, d) == "a.snap\n");
  CHECK(bash_complete({"slip", "snapshot", "inspect", "--get", "a"}, d) == "\n");
  // The value of --get is not the FILE positional, which still comes next.
  CHECK(bash_complete({"slip", "snapshot", "inspect", "--get", "k", "a"}, d) == "a.snap\n");
  // Hidden commands are not offered.
  CHECK(bash_complete({"slip", "gen"}, d) == "\n");
}

TEST_CASE("generate: fish completes commands and file names") {
  if (!have_program("fish")) {
    MESSAGE("fish is not installed: completion not tried");
    return;
  }
  slip::test::TempDir tmp;
  slip::test::write_file(tmp.file("a.snap"), "");
  auto complete = [&](const std::string& line) {
    auto run = run_process({"fish", "--no-config", "-c",
                            "source $argv[1]; cd $argv[2]; and complete -C $argv[3]",
                            kSourceDir + "/completions/slip.fish", tmp.path(), line});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    return run.out;
  };
  CHECK(complete("slip snapshot v").rfind("verify\t", 0) == 0);
  CHECK(complete("slip snapshot verify a") == "a.snap\n");
  CHECK(complete("slip snapshot compact -o a") == "a.snap\n");
  CHECK(complete("slip snapshot inspect --get a").empty());
}

TEST_CASE("generate: man pages render without groff warnings") {
  if (!have_program("groff")) {
    MESSAGE("groff is not installed: rendering not checked");
    return;
  }
  std::vector<std::string> pages = names_in(kSourceDir + "/man", ".1");
  for (const std::string& page : names_in(kSourceDir + "/man", ".5")) pages.push_back(page);
  CHECK(std::find(pages.begin(), pages.end(), "slip-artifact.5") != pages.end());
  for (const std::string& page : pages) {
    CAPTURE(page);
    auto run =
        run_process({"groff", "-t", "-man", "-Tutf8", "-ww", "-z", kSourceDir + "/man/" + page});
    CHECK(run.exit_code == 0);
    CHECK_MESSAGE(run.err.empty(), run.err);
  }
}

TEST_CASE("generate: help texts are escaped for roff and parsed for exit codes") {
  CLI::App app("tool: does things", "tool");
  CLI::App* sub = app.add_subcommand("run", "Run it");
  std::string dir;
  sub->add_option("-p,--path", dir, "A back\\slash - and 'quotes'")->type_name("DIR");
  sub->footer(
      ".starts with a dot\n'and an apostrophe\n\n"
      "na\xC3\xAFve caf\xC3\xA9\n\n"
      "EXIT STATUS\n0 fine; 7 bad (really; truly).");
  const slip::cli::CommandDoc doc = slip::cli::describe_command(app);
  const auto pages = slip::cli::generate_man_pages(doc, "9.9");
  REQUIRE(pages.size() == 2);
  CHECK(pages[0].name == "tool.1");
  REQUIRE(pages[1].name == "tool-run.1");
  const std::string& page = pages[1].content;
  CAPTURE(page);
  CHECK(page.find("tool\\-run \\- Run it\n") != std::string::npos);
  CHECK(page.find("\\fB\\-p\\fR, \\fB\\-\\-path\\fR \\fIDIR\\fR\n") != std::string::npos);
  CHECK(page.find("A back\\eslash \\- and 'quotes'.\n") != std::string::npos);
  CHECK(page.find("\\&.starts with a dot\n\\&'and an apostrophe\n") != std::string::npos);
  CHECK(page.find("na\\[u00EF]ve caf\\[u00E9]") != std::string::npos);
  CHECK(page.find("0@T{\nfine\nT}\n7@T{\nbad (really; truly)\nT}\n") != std::string::npos);
  CHECK(page.find("9.9") != std::string::npos);

  // DIR values complete directories in every shell.
  CHECK(slip::cli::generate_bash_completion(doc).find(
            "tool_run:-p | tool_run:--path) _slip_paths \"$cur\" -d") != std::string::npos);
  CHECK(slip::cli::generate_zsh_completion(doc).find(":DIR:_files -/'") != std::string::npos);
  CHECK(slip::cli::generate_fish_completion(doc).find("__fish_complete_directories") !=
        std::string::npos);
}

TEST_CASE("generate: environment variables reach --help and the man page") {
  CLI::App app("tool: does things", "tool");
  slip::cli::set_long_help(&app, "The tool.\n\nEXIT STATUS\n0 fine; 1 not.");
  CLI::App* get = app.add_subcommand("get", "Get it");
  slip::cli::set_long_help(get,
                           "Gets it.\n\nEXIT STATUS\n0 got; 4 unavailable.\n\n" +
                               slip::cli::environment_help({{"TOOL_KEY", "the key (never printed)"},
                                                            {"TMPDIR", "Where files are staged"}}));
  // A subcommand starts with a copy of its parent's footer; its own long
  // help replaces it, variables included.
  CLI::App* ls = get->add_subcommand("ls", "List it");
  slip::cli::set_long_help(ls, "Lists it.");

  const std::string get_help = get->help();
  const auto described = get_help.find("Gets it.");
  const auto variables = get_help.find("ENVIRONMENT\n  TOOL_KEY  the key (never printed)\n");
  REQUIRE(described != std::string::npos);
  REQUIRE(variables != std::string::npos);
  CHECK(described < variables);

  const slip::cli::CommandDoc doc = slip::cli::describe_command(app);
  REQUIRE(doc.children.size() == 1);
  const slip::cli::CommandDoc& get_doc = doc.children[0];
  REQUIRE(get_doc.environment.size() == 2);
  CHECK(get_doc.environment[0].name == "TOOL_KEY");
  CHECK(get_doc.environment[0].meaning == "the key (never printed)");
  CHECK(get_doc.environment[1].name == "TMPDIR");
  CHECK(get_doc.paragraphs == std::vector<std::string>{"Gets it."});
  CHECK(get_doc.exit_codes.size() == 2);
  REQUIRE(get_doc.children.size() == 1);
  CHECK(get_doc.children[0].environment.empty());
  CHECK(get_doc.children[0].paragraphs == std::vector<std::string>{"Lists it."});

  const auto pages = slip::cli::generate_man_pages(doc, "9.9");
  REQUIRE(pages.size() == 3);
  REQUIRE(pages[1].name == "tool-get.1");
  CHECK(pages[1].content.find(".SH ENVIRONMENT\n.TP\n\\fBTOOL_KEY\\fR\nthe key (never printed).\n"
                              ".TP\n\\fBTMPDIR\\fR\nWhere files are staged.\n") !=
        std::string::npos);
  CHECK(pages[2].content.find("ENVIRONMENT") == std::string::npos);
}
