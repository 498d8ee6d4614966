#include <nlohmann/json.hpp>

#include "json_fields.h"
#include "slip/snapshot.h"
#include "snapshot.h"
#include "snapshot_fold.h"

namespace slip::cli {

void register_snapshot_verify(CLI::App& parent, Registry& registry) {
  auto opts = std::make_shared<SnapshotVerifyOptions>();
  CLI::App* app = parent.add_subcommand("verify", "Check every record of a snapshot file");
  app->add_option("FILE", opts->file, "Snapshot file to check")->required()->type_name("FILE");
  app->add_flag("--json", opts->json, "Print the report as one JSON object");
  app->add_flag("--repair", opts->repair,
                "Truncate a torn tail (after copying the file to FILE.bak); never touches a "
                "corrupted or invalid file");
  app->add_flag("--no-backup", opts->no_backup, "With --repair, do not keep FILE.bak");
  set_long_help(app,
                "Reads the file once, in bounded memory, and checks the header, every record's "
                "CRC-32 and structure, and that keys are UTF-8. Prints the status (ok, torn_tail, "
                "corrupted or invalid), the offset of the first problem, the records and bytes "
                "checked, the live keys and the cursor.\n\n"
                "JSON fields: status, offset (null when ok), reason, records, bytes, file_size, "
                "live_keys, cursor (revision number, or hex for tokens that are not 8 bytes; null "
                "if none), cursor_hex, and with --repair: repaired, backup.\n\n"
                "--repair leaves alone a log fold that a running mirror holds (exit 4).\n\n"
                "EXIT STATUS\n"
                "0 ok (or a torn tail repaired); 1 torn tail; 2 bad arguments or unreadable path; "
                "3 corrupted or invalid; 4 I/O error, or the fold is in use.");
  registry.set_runner(app, [opts](Context& ctx) { return run_snapshot_verify(*opts, ctx); });
}

Status run_snapshot_verify(const SnapshotVerifyOptions& options, Context& ctx) {
  if (is_directory(options.file)) return verify_leveldb_fold(options, ctx);
  auto report = snapshot::verify(options.file);
  if (!report) return report.status();
  const snapshot::Problem& problem = report->problem;
  const bool torn = problem.damage == snapshot::Damage::kTornTail;
  const bool damaged = problem.damage == snapshot::Damage::kInvalid ||
                       problem.damage == snapshot::Damage::kCorrupted;

  std::string backup;
  bool repaired = false;
  if (options.repair && torn) {
    auto lock = lock_if_fold(options.file);
    if (!lock) return lock.status();
    if (!options.no_backup) backup = options.file + ".bak";
    SLIP_RETURN_IF_ERROR(snapshot::truncate_torn_tail(options.file, problem.offset, backup));
    repaired = true;
  }

  if (options.json) {
    nlohmann::json j;
    j["status"] = snapshot::damage_name(problem.damage);
    j["offset"] = problem.damage == snapshot::Damage::kNone ? nlohmann::json(nullptr)
                                                            : nlohmann::json(problem.offset);
    j["reason"] = problem.damage == snapshot::Damage::kNone ? nlohmann::json(nullptr)
                                                            : nlohmann::json(problem.reason);
    j["records"] = report->records;
    j["bytes"] = report->bytes;
    j["file_size"] = report->file_size;
    j["live_keys"] = report->live_keys;
    j["cursor"] = version_json(report->cursor);
    j["cursor_hex"] =
        report->cursor ? nlohmann::json(report->cursor->hex()) : nlohmann::json(nullptr);
    if (options.repair) {
      j["repaired"] = repaired;
      j["backup"] = backup.empty() ? nlohmann::json(nullptr) : nlohmann::json(backup);
    }
    SLIP_RETURN_IF_ERROR(
        ctx.out.line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  } else {
    std::string line = std::string(snapshot::damage_name(problem.damage));
    if (problem.damage != snapshot::Damage::kNone) {
      line += " at offset " + std::to_string(problem.offset) + ": " + problem.reason;
    }
    line += "\nrecords: " + std::to_string(report->records) +
            "\nbytes:   " + std::to_string(report->bytes) + " of " +
            std::to_string(report->file_size);
    if (!damaged) {
      line += "\nlive keys: " + std::to_string(report->live_keys) +
              "\ncursor:  " + (report->cursor ? report->cursor->display() : std::string("none"));
    }
    if (repaired) {
      line += "\nrepaired: truncated to " + std::to_string(problem.offset) + " bytes" +
              (backup.empty() ? std::string() : " (backup: " + backup + ")");
    }
    SLIP_RETURN_IF_ERROR(ctx.out.line(line));
  }
  if (damaged && options.repair) {
    return Status::corruption(options.file + " is " + snapshot::damage_name(problem.damage) +
                              ", not torn: --repair only truncates torn tails; the file was not "
                              "changed");
  }
  if (repaired) return Status::ok();
  return damage_status(options.file, problem);
}

}  // namespace slip::cli
