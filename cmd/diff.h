// `slip diff A B`: compare two states of a bucket (snapshot files, LevelDB
// folds, live buckets) key by key, like diff(1).
#pragma once

#include <string>
#include <vector>

#include "command.h"
#include "connection_flags.h"
#include "location_flags.h"

namespace slip::cli {

struct DiffOptions {
  ConnectionFlags conn;
  std::string a;
  std::string b;
  std::vector<std::string> prefixes;  // both sides
  bool ignore_revisions = false;
  bool values = false;
  bool json = false;
  bool stat = false;
  LocationFlags loc;     // for artifact sources
  std::string bucket;    // an artifact source holding several buckets' exports
  std::string artifact;  // an artifact id instead of the pointer's
};

void register_diff(CLI::App& parent, Registry& registry);
Status run_diff(const DiffOptions& options, Context& ctx);

// TEXT as it is when it is printable UTF-8, else double-quoted with
// C-style escapes (\" \\ \n \r \t \xNN): what the text output prints for
// keys and values.
std::string display_text(std::string_view text);

}  // namespace slip::cli
