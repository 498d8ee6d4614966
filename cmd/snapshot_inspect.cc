#include <nlohmann/json.hpp>

#include "json_fields.h"
#include "slip/snapshot.h"
#include "snapshot.h"
#include "snapshot_fold.h"

namespace slip::cli {

void register_snapshot_inspect(CLI::App& parent, Registry& registry) {
  auto opts = std::make_shared<SnapshotInspectOptions>();
  CLI::App* app =
      parent.add_subcommand("inspect", "Summarise a snapshot file: records, live keys, cursor");
  app->add_option("FILE", opts->file, "Snapshot file to inspect")->required()->type_name("FILE");
  app->add_flag("--json", opts->json, "Print the summary as one JSON object");
  app->add_flag("--keys", opts->keys, "List the live keys, one per line, in byte order");
  app->add_option("--get", opts->get, "Print the raw value of KEY (exit 1 if it is not live)")
      ->type_name("KEY");
  set_long_help(
      app,
      "Prints the format version, file size, records by type, live keys, bytes of live "
      "records (the latest PUT of each live key and the last cursor) against dead ones, "
      "the cursor (a revision number when it is 8 bytes, hex otherwise), whether the file "
      "is in canonical form, and the status. Values stay on disk: memory grows with the "
      "number of live keys only.\n\n"
      "JSON fields: file, format_version, file_size, records {put, delete, cursor, "
      "total}, live_keys, live_bytes, dead_bytes, cursor, cursor_hex, canonical, status, "
      "offset, reason.\n\n"
      "EXIT STATUS\n"
      "0 success (also for a torn tail, which is reported); 1 with --get, the key is not "
      "live; 2 bad arguments or unreadable path; 3 corrupted or invalid file; 4 I/O error.");
  registry.set_runner(app, [opts](Context& ctx) { return run_snapshot_inspect(*opts, ctx); });
}

namespace {

std::string summary_text(const std::string& file, const snapshot::Index& index,
                         std::uint16_t version) {
  const snapshot::Problem& problem = index.problem;
  std::string status = snapshot::damage_name(problem.damage);
  if (problem.damage != snapshot::Damage::kNone) {
    status += " at offset " + std::to_string(problem.offset) + ": " + problem.reason;
  }
  const auto& c = index.counts;
  std::string text;
  text += "file:       " + file + "\n";
  text += "format:     PGSS v" + std::to_string(version) + "\n";
  text += "size:       " + std::to_string(index.file_size) + " bytes\n";
  text += "records:    " + std::to_string(c.total()) + " (" + std::to_string(c.put) + " put, " +
          std::to_string(c.del) + " delete, " + std::to_string(c.cursor) + " cursor)\n";
  text += "live keys:  " + std::to_string(index.live.size()) + "\n";
  text += "live bytes: " + std::to_string(index.live_bytes) + "\n";
  text += "dead bytes: " + std::to_string(index.dead_bytes()) + "\n";
  text += "cursor:     " + (index.cursor ? index.cursor->display() : std::string("none")) + "\n";
  text += "canonical:  " + std::string(index.canonical ? "yes" : "no") + "\n";
  text += "status:     " + status;
  return text;
}

nlohmann::json summary_json(const std::string& file, const snapshot::Index& index,
                            std::uint16_t version) {
  const snapshot::Problem& problem = index.problem;
  const bool ok = problem.damage == snapshot::Damage::kNone;
  nlohmann::json j;
  j["file"] = file;
  j["format_version"] = version;
  j["file_size"] = index.file_size;
  j["records"] = {{"put", index.counts.put},
                  {"delete", index.counts.del},
                  {"cursor", index.counts.cursor},
                  {"total", index.counts.total()}};
  j["live_keys"] = index.live.size();
  j["live_bytes"] = index.live_bytes;
  j["dead_bytes"] = index.dead_bytes();
  j["cursor"] = version_json(index.cursor);
  j["cursor_hex"] = index.cursor ? nlohmann::json(index.cursor->hex()) : nlohmann::json(nullptr);
  j["canonical"] = index.canonical;
  j["status"] = snapshot::damage_name(problem.damage);
  j["offset"] = ok ? nlohmann::json(nullptr) : nlohmann::json(problem.offset);
  j["reason"] = ok ? nlohmann::json(nullptr) : nlohmann::json(problem.reason);
  return j;
}

}  // namespace

Status run_snapshot_inspect(const SnapshotInspectOptions& options, Context& ctx) {
  if (is_directory(options.file)) return inspect_leveldb_fold(options, ctx);
  // The header is read separately so the format version can be shown even
  // for files whose records are damaged.
  std::uint16_t version = 0;
  {
    auto reader = snapshot::Reader::open(options.file);
    if (!reader) return reader.status();
    version = (*reader)->format_version();
  }

  auto index = snapshot::build_index(options.file);
  if (!index) return index.status();
  const snapshot::Problem& problem = index->problem;
  const bool damaged = problem.damage == snapshot::Damage::kInvalid ||
                       problem.damage == snapshot::Damage::kCorrupted;

  if (options.get) {
    if (damaged) return damage_status(options.file, problem);
    auto it = index->live.find(*options.get);
    if (it == index->live.end()) {
      return Status::not_found("key '" + *options.get + "' is not live in " + options.file);
    }
    auto value = snapshot::read_value(options.file, it->second);
    if (!value) return value.status();
    return ctx.out.write(*value);
  }
  if (options.keys) {
    if (damaged) return damage_status(options.file, problem);
    for (const std::string& key : index->sorted_keys()) SLIP_RETURN_IF_ERROR(ctx.out.line(key));
    return Status::ok();
  }
  if (options.json) {
    SLIP_RETURN_IF_ERROR(
        ctx.out.line(summary_json(options.file, *index, version)
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  } else {
    SLIP_RETURN_IF_ERROR(ctx.out.line(summary_text(options.file, *index, version)));
  }
  return damaged ? damage_status(options.file, problem) : Status::ok();
}

}  // namespace slip::cli
