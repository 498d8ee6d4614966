// `slip watch BUCKET [PREFIX...]`: stream a bucket's changes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "connection_flags.h"

namespace slip::cli {

struct WatchOptions {
  ConnectionFlags conn;
  std::string bucket;
  std::vector<std::string> prefixes;
  std::string format = "json";  // json, text, value
  std::optional<std::uint64_t> since;
  std::string cursor_file;
  std::string on_expired = "fail";  // fail, relist
  std::string exec;
  std::size_t batch_max = 1000;
  std::int64_t batch_window_ms = 50;
  bool until_caught_up = false;
  std::optional<std::uint64_t> count;
  bool updates_only = false;
  bool ignore_deletes = false;
};

void register_watch(CLI::App& parent, Registry& registry);
Status run_watch(const WatchOptions& options, Context& ctx);

}  // namespace slip::cli
