#include "snapshot.h"

#include <sys/stat.h>

namespace slip::cli {

void register_snapshot(CLI::App& parent, Registry& registry) {
  CLI::App* app =
      parent.add_subcommand("snapshot", "Inspect, verify, compact and dump snapshot files");
  app->require_subcommand(1);
  set_long_help(app,
                "Forensics on PGSS v2 snapshot logs (the append-only fold files written by "
                "'slip mirror' and other Slipstream-style consumers; format in slip-snapshot(5)). "
                "Every problem is reported with the byte offset of the record where it happened "
                "and classified as invalid, torn_tail or corrupted.");
  register_snapshot_inspect(*app, registry);
  register_snapshot_verify(*app, registry);
  register_snapshot_compact(*app, registry);
  register_snapshot_dump(*app, registry);
}

Result<std::unique_ptr<fold::FileLock>> lock_if_fold(const std::string& file) {
  struct stat st;
  if (::stat((file + ".lock").c_str(), &st) != 0) return std::unique_ptr<fold::FileLock>();
  return fold::FileLock::acquire_fold(file, "log");
}

Status damage_status(const std::string& file, const snapshot::Problem& problem) {
  std::string msg = file + ": " + snapshot::damage_name(problem.damage) + " at offset " +
                    std::to_string(problem.offset) + ": " + problem.reason;
  switch (problem.damage) {
    case snapshot::Damage::kNone: return Status::ok();
    case snapshot::Damage::kTornTail:
      return Status::check_failed(msg + " (run 'slip snapshot verify --repair' to truncate it)");
    case snapshot::Damage::kInvalid:
    case snapshot::Damage::kCorrupted: return Status::corruption(msg);
  }
  return Status::corruption(msg);
}

}  // namespace slip::cli
