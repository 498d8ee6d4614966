// A plain description of the command tree, read from the CLI11 definitions
// that parse the command line. The man page and completion generators work
// from this and nothing else, so a flag added to a command shows up in every
// generated file without anyone listing it twice.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace slip::cli {

// What a shell offers for an option's value or a positional argument. It
// follows from the value name: FILE, OUT and PATH are files, DIR is a
// directory, anything else (KEY, TEXT) is free text.
enum class ValueCompletion { kNone, kFile, kDirectory };

struct OptionDoc {
  std::vector<std::string> short_names;  // without the dash: "o"
  std::vector<std::string> long_names;   // without the dashes: "output"
  std::string value_name;                // FILE, KEY; empty for a flag
  std::vector<std::string> choices;      // from a CLI::IsMember check, else empty
  std::string description;               // one line, as in --help
  std::string group;                     // "Connection"; empty for CLI11's default group
  std::string env;                       // environment variable that sets it, or empty
  bool positional = false;
  bool required = false;
  bool repeatable = false;  // takes more than one word (positionals only)
  ValueCompletion completion = ValueCompletion::kNone;

  bool takes_value() const { return !value_name.empty(); }
};

struct ExitCodeDoc {
  std::string code;     // "0", "130"
  std::string meaning;  // "success"
};

struct EnvironmentDoc {
  std::string name;     // AWS_REGION
  std::string meaning;  // one sentence
};

struct CommandDoc {
  std::vector<std::string> path;        // {"slip", "snapshot", "verify"}
  std::vector<std::string> aliases;     // other names of the last word: {"info"}
  std::string summary;                  // the one-line description
  std::vector<std::string> paragraphs;  // long help, without the EXIT STATUS paragraph
  // The EXIT STATUS paragraph of this command or, when it has none, of the
  // nearest ancestor that has one: the codes that can end a run of it.
  std::string exit_status;              // the paragraph's text, heading removed
  std::vector<ExitCodeDoc> exit_codes;  // parsed from it; empty if it is not "N what; ..."
  std::vector<OptionDoc> options;       // named options, then positionals, each in order
  // The ENVIRONMENT paragraph (environment_help()): variables no option
  // names. Those that give options their defaults are in `options`.
  std::vector<EnvironmentDoc> environment;
  std::vector<CommandDoc> children;  // visible subcommands, in table order

  bool is_root() const { return path.size() == 1; }
  std::string display_name() const;   // "slip snapshot verify"
  std::string page_name() const;      // "slip-snapshot-verify"
  std::string function_name() const;  // "slip_snapshot_verify", for shell scripts
  // The last word of the path and its aliases: every word that names it.
  std::vector<std::string> names() const;
};

// Describes APP and its subcommands. Hidden commands and options (empty
// group) are left out. APP is only read during the call.
CommandDoc describe_command(const CLI::App& app);

// Every command of the tree, each parent before its children.
std::vector<const CommandDoc*> all_commands(const CommandDoc& root);

// "0 success; 1 a negative answer (...); 130 interrupted." as code/meaning
// pairs. Returns an empty list when the text does not have that shape.
std::vector<ExitCodeDoc> parse_exit_codes(const std::string& text);

// PARTS with SEP between them.
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// TEXT as one POSIX shell single-quoted word ('it'\''s'), for the bash and
// zsh scripts.
std::string single_quoted(std::string_view text);

}  // namespace slip::cli
