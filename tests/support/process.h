// Test helpers: run the real slip binary (or any program) and capture what
// it prints and how it exits.
#pragma once

#include <string>
#include <vector>

namespace slip::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs ARGV (argv[0] is looked up in PATH when it has no slash) with STDIN
// as its standard input, and waits for it.
// ENV changes the environment of the child: "NAME=VALUE" sets, "NAME" unsets.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                          const std::vector<std::string>& env = {});

// Runs the slip binary under test with ARGS.
ProcessResult run_slip(const std::vector<std::string>& args, const std::string& stdin_data = "",
                       const std::vector<std::string>& env = {});

}  // namespace slip::test
