// `slip mirror BUCKET --to PATH`: keep a local fold in step with a bucket.
#pragma once

#include <string>
#include <vector>

#include "command.h"
#include "connection_flags.h"
#include "location_flags.h"

namespace slip::cli {

struct MirrorOptions {
  ConnectionFlags conn;
  std::string bucket;
  std::string to;
  std::string backend;  // empty: detect an existing fold, else log
  std::vector<std::string> prefixes;
  bool once = false;
  bool sync = false;
  std::uint64_t compact_threshold = 64ull << 20;
  std::string metrics;  // listen address, empty: none
  std::string log_format = "text";
  bool no_progress = false;
  std::string export_to;  // empty: no exports
  std::string export_every = "1h";
  int export_keep = 0;  // 0: keep every artifact
  bool reconcile = false;
  std::string reconcile_every;  // empty: the default for the bucket
  LocationFlags loc;
};

void register_mirror(CLI::App& parent, Registry& registry);
Status run_mirror(const MirrorOptions& options, Context& ctx);

}  // namespace slip::cli
