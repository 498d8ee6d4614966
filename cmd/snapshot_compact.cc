#include "slip/snapshot.h"
#include "snapshot.h"

namespace slip::cli {

void register_snapshot_compact(CLI::App& parent, Registry& registry) {
  auto opts = std::make_shared<SnapshotCompactOptions>();
  CLI::App* app = parent.add_subcommand("compact", "Rewrite a snapshot file into canonical form");
  app->add_option("FILE", opts->file, "Snapshot file to compact")->required()->type_name("FILE");
  app->add_option("-o,--output", opts->output,
                  "Write the compacted file to OUT instead of replacing FILE")
      ->type_name("OUT");
  app->add_flag("--check", opts->check,
                "Change nothing; exit 1 when FILE is not in canonical form");
  set_long_help(app,
                "The canonical form is the header, one PUT per live key in ascending byte order of "
                "the key, then one CURSOR record if a cursor is known: the same state always gives "
                "the same bytes. The new file is written to a temporary file in the same "
                "directory, fsynced and renamed into place, so FILE is either the old or the new "
                "file, never a part. A file that is already canonical is left byte-identical. A "
                "torn tail is dropped and reported; corrupted or invalid files are refused and "
                "left untouched. A log fold that a running mirror holds is not replaced (exit "
                "4).\n\n"
                "EXIT STATUS\n"
                "0 compacted (or already canonical); 1 with --check, not canonical; 2 bad "
                "arguments or unreadable path; 3 corrupted or invalid input; 4 I/O error such "
                "as a full disk, or the fold is in use.");
  registry.set_runner(app, [opts](Context& ctx) { return run_snapshot_compact(*opts, ctx); });
}

Status run_snapshot_compact(const SnapshotCompactOptions& options, Context& ctx) {
  if (options.check) {
    auto index = snapshot::build_index(options.file);
    if (!index) return index.status();
    const snapshot::Problem& problem = index->problem;
    if (problem.damage == snapshot::Damage::kInvalid ||
        problem.damage == snapshot::Damage::kCorrupted) {
      return damage_status(options.file, problem);
    }
    if (index->canonical) return ctx.out.line(options.file + ": canonical");
    SLIP_RETURN_IF_ERROR(ctx.out.line(options.file + ": not canonical"));
    return Status::check_failed("");
  }
  const std::string& out = options.output.empty() ? options.file : options.output;
  auto lock = lock_if_fold(out);
  if (!lock) return lock.status();
  auto report = snapshot::compact(options.file, out);
  if (!report) return report.status();
  std::string text;
  if (report->torn_tail_dropped) {
    text += "dropped torn tail at offset " + std::to_string(report->torn_tail_offset) + " (" +
            std::to_string(report->bytes_before - report->torn_tail_offset) + " bytes)\n";
  }
  if (report->rewritten) {
    text += out + ": " + std::to_string(report->bytes_before) + " -> " +
            std::to_string(report->bytes_after) + " bytes, " + std::to_string(report->live_keys) +
            " live keys";
  } else {
    text += out + ": already canonical, " + std::to_string(report->bytes_before) + " bytes, " +
            std::to_string(report->live_keys) + " live keys";
  }
  return ctx.out.line(text);
}

}  // namespace slip::cli
