#include "json_fields.h"
#include "slip/snapshot_reader.h"
#include "snapshot.h"
#include "snapshot_fold.h"

namespace slip::cli {

void register_snapshot_dump(CLI::App& parent, Registry& registry) {
  auto opts = std::make_shared<SnapshotDumpOptions>();
  CLI::App* app =
      parent.add_subcommand("dump", "Print every record of a snapshot file as JSON lines");
  app->add_option("FILE", opts->file, "Snapshot file to dump")->required()->type_name("FILE");
  set_long_help(app,
                "Streams the file and prints one JSON object per intact record, in file order: "
                "offset, type (put, delete, cursor), key, value (when valid UTF-8) or value_b64, "
                "and version (the revision number for 8-byte tokens, lowercase hex otherwise; for "
                "a cursor record, the cursor). At the first problem the dump stops and the "
                "problem is reported on standard error.\n\n"
                "EXIT STATUS\n"
                "0 the whole file was dumped; 1 it ends in a torn tail; 2 bad arguments or "
                "unreadable path; 3 corrupted or invalid; 4 I/O error.");
  registry.set_runner(app, [opts](Context& ctx) { return run_snapshot_dump(*opts, ctx); });
}

namespace {

const char* type_name(snapshot::RecordType type) {
  switch (type) {
    case snapshot::RecordType::kPut: return "put";
    case snapshot::RecordType::kDelete: return "delete";
    case snapshot::RecordType::kCursor: return "cursor";
  }
  return "?";
}

}  // namespace

Status run_snapshot_dump(const SnapshotDumpOptions& options, Context& ctx) {
  if (is_directory(options.file)) return dump_leveldb_fold(options, ctx);
  auto reader = snapshot::Reader::open(options.file);
  if (!reader) return reader.status();
  snapshot::Record rec;
  std::string& line = ctx.out.buffer();
  while ((*reader)->next(&rec)) {
    line.append("{\"offset\":").append(std::to_string(rec.offset));
    line.append(",\"type\":\"").append(type_name(rec.type)).push_back('"');
    if (rec.type != snapshot::RecordType::kCursor) {
      line.append(",\"key\":");
      append_json_string(&line, rec.key);
    }
    if (rec.type == snapshot::RecordType::kPut) append_value_field(&line, rec.value);
    append_version_field(&line, "version", rec.version);
    line.append("}\n");
    SLIP_RETURN_IF_ERROR(ctx.out.maybe_flush());
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  return damage_status(options.file, (*reader)->problem());
}

}  // namespace slip::cli
