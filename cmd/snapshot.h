// `slip snapshot inspect|verify|compact|dump`: forensics on snapshot files.
// Each subcommand lives in its own cmd/snapshot_<name>.cc; the run_*
// functions take plain options so tests can call them without CLI11.
#pragma once

#include <memory>

#include <optional>
#include <string>

#include "command.h"
#include "fold/lock.h"
#include "slip/snapshot_reader.h"

namespace slip::cli {

void register_snapshot(CLI::App& parent, Registry& registry);

struct SnapshotInspectOptions {
  std::string file;
  bool json = false;
  bool keys = false;
  std::optional<std::string> get;
};
void register_snapshot_inspect(CLI::App& parent, Registry& registry);
Status run_snapshot_inspect(const SnapshotInspectOptions& options, Context& ctx);

struct SnapshotVerifyOptions {
  std::string file;
  bool json = false;
  bool repair = false;
  bool no_backup = false;
};
void register_snapshot_verify(CLI::App& parent, Registry& registry);
Status run_snapshot_verify(const SnapshotVerifyOptions& options, Context& ctx);

struct SnapshotCompactOptions {
  std::string file;
  std::string output;  // empty: in place
  bool check = false;
};
void register_snapshot_compact(CLI::App& parent, Registry& registry);
Status run_snapshot_compact(const SnapshotCompactOptions& options, Context& ctx);

struct SnapshotDumpOptions {
  std::string file;
};
void register_snapshot_dump(CLI::App& parent, Registry& registry);
Status run_snapshot_dump(const SnapshotDumpOptions& options, Context& ctx);

// Shared by the snapshot subcommands: the Status for a damaged file, with
// the offset and the spec's class.
Status damage_status(const std::string& file, const snapshot::Problem& problem);

// Before FILE is rewritten in place (compact, verify --repair): when FILE
// is a log fold (FILE.lock exists: a store opened it), its lock, so that a
// running mirror is not rewritten under (exit 4). Plain snapshot files get
// no lock file.
Result<std::unique_ptr<fold::FileLock>> lock_if_fold(const std::string& file);

}  // namespace slip::cli
