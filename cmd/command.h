// The command tree of slip.
//
// Every command is defined once, in its cmd/<name>.cc file, by a
// register_<name>() that adds a CLI11 subcommand with its flags and docs and
// records a Runner for it. main(), `slip generate` (help, man pages,
// completions) and the tests all build the same tree with build_app().
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "output.h"
#include "slip/status.h"

namespace slip::cli {

// What a command gets when it runs.
struct Context {
  Output& out;
};

using Runner = std::function<Status(Context&)>;

// Maps each runnable (leaf) subcommand to the function that runs it.
class Registry {
 public:
  void set_runner(const CLI::App* app, Runner runner) { runners_[app] = std::move(runner); }
  const Runner* find(const CLI::App* app) const {
    auto it = runners_.find(app);
    return it == runners_.end() ? nullptr : &it->second;
  }

 private:
  std::map<const CLI::App*, Runner> runners_;
};

// One row of the ordered top-level command table.
struct CommandDef {
  const char* name;
  void (*register_fn)(CLI::App& parent, Registry& registry);
};

const std::vector<CommandDef>& command_table();

// The whole tree: the top-level app with every command registered.
std::unique_ptr<CLI::App> build_app(Registry& registry);

// Parses ARGS (without argv[0]) and runs the chosen command; returns the
// process exit code. Errors are printed to ERR as one line each.
int run_main(const std::vector<std::string>& args, Output& out, std::FILE* err);

// Long help that appears in --help and the man page: paragraphs separated
// by blank lines. An "EXIT STATUS" paragraph names the command's codes.
void set_long_help(CLI::App* app, const std::string& text);

// Environment variables a command reads that no option names (credentials,
// for one), as an "ENVIRONMENT" paragraph for its long help: --help shows
// it, and the man page lists the variables in its ENVIRONMENT section.
struct EnvironmentHelp {
  std::string name;     // AWS_REGION
  std::string meaning;  // one sentence
};
std::string environment_help(const std::vector<EnvironmentHelp>& variables);

// What `slip --version` prints: slip's version, then the versions of the
// libraries it runs with, one per line.
std::string version_text();

}  // namespace slip::cli
