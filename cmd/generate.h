// `slip generate man|bash|zsh|fish`: the man pages and shell completions,
// generated from the same command tree that parses the command line.
#pragma once

#include <string>

#include "command.h"

namespace slip::cli {

struct GenerateOptions {
  std::string what;     // man, bash, zsh, fish
  std::string out_dir;  // where to write; empty: standard output (completions only)
};

void register_generate(CLI::App& parent, Registry& registry);
Status run_generate(const GenerateOptions& options, Context& ctx);

}  // namespace slip::cli
