// `slip generate man|bash|zsh|fish`: the man pages and shell completions,
// generated from the same command tree that parses the command line.
//
// The output depends on the command definitions and the version only (no
// dates, no paths), so regenerating gives the same bytes and a test can
// compare the committed files with fresh ones (scripts/generate-docs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "command_doc.h"

namespace slip::cli {

struct GenerateOptions {
  std::string what;     // man, bash, zsh, fish
  std::string out_dir;  // where to write; empty: standard output (completions only)
};

void register_generate(CLI::App& parent, Registry& registry);

// Writes the files into options.out_dir (created if missing) through
// AtomicFile, or a completion script to ctx.out. Man pages without an
// output directory are an InvalidArgument.
Status run_generate(const GenerateOptions& options, Context& ctx);

struct GeneratedFile {
  std::string name;  // file name, no directory: "slip-snapshot.1", "_slip"
  std::string content;
};

// One roff page per visible command: slip.1, slip-snapshot.1, ...
std::vector<GeneratedFile> generate_man_pages(const CommandDoc& root, std::string_view version);

std::string generate_bash_completion(const CommandDoc& root);  // completions/slip.bash
std::string generate_zsh_completion(const CommandDoc& root);   // completions/_slip
std::string generate_fish_completion(const CommandDoc& root);  // completions/slip.fish

}  // namespace slip::cli
