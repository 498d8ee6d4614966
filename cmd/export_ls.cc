#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "export.h"
#include "json_fields.h"
#include "slip/artifact.h"

namespace slip::cli {

void register_export_ls(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<ExportLsOptions>();
  CLI::App* app = parent.add_subcommand("ls", "List the artifacts under a location");
  app->add_option("LOCATION", o->location, "file:///dir/prefix, a path, or s3://bucket/prefix")
      ->required()
      ->type_name("LOCATION");
  app->add_option("--bucket", o->bucket, "Only this bucket's artifacts")->type_name("BUCKET");
  app->add_flag("--json", o->json, "One JSON object per artifact (JSON Lines)");
  add_location_flags(app, o->loc);
  set_long_help(
      app,
      "Lists every artifact of every bucket under LOCATION (or of --bucket), oldest cursor "
      "first, marking with '*' the one the bucket's pointer names. Manifests that cannot be read "
      "are reported on standard error and skipped.\n\n"
      "JSON fields (one object per line): bucket, id, current, cursor, cursor_hex, entries, "
      "created (RFC 3339), compressed_size, uncompressed_size, payload, scope.\n\n"
      "EXIT STATUS\n"
      "0 listed (also when empty); 1 --bucket has no artifacts; 2 bad arguments; 4 storage "
      "unavailable.\n\n" +
          location_environment_help());
  registry.set_runner(app, [o](Context& ctx) { return run_export_ls(*o, ctx); });
}

Status run_export_ls(const ExportLsOptions& o, Context& ctx) {
  auto loc = open_location_from_flags(o.location, o.loc);
  if (!loc) return loc.status();
  std::vector<std::string> buckets;
  if (!o.bucket.empty()) {
    buckets.push_back(o.bucket);
  } else {
    auto all = artifact::list_buckets(**loc);
    if (!all) return all.status();
    buckets = std::move(*all);
  }
  if (!o.json) SLIP_RETURN_IF_ERROR(ctx.out.line("  BUCKET  ID  CURSOR  KEYS  BYTES  CREATED"));
  for (const std::string& bucket : buckets) {
    std::vector<std::string> skipped;
    auto list = artifact::list_artifacts(**loc, bucket, &skipped);
    if (!list) return list.status();
    for (const std::string& s : skipped)
      std::fprintf(stderr, "slip: warning: skipped %s\n", s.c_str());
    if (list->empty() && !o.bucket.empty())
      return Status::not_found("no artifacts of bucket " + bucket + " under " + (*loc)->display());
    for (const artifact::Listing& l : *list) {
      const artifact::Manifest& m = l.manifest;
      if (o.json) {
        nlohmann::json j;
        j["bucket"] = m.bucket;
        j["id"] = m.id;
        j["current"] = l.current;
        j["cursor"] = version_json(m.cursor);
        j["cursor_hex"] = m.cursor.hex();
        j["entries"] = m.entries;
        j["created"] = format_rfc3339(m.created_ns);
        j["compressed_size"] = m.compressed_size;
        j["uncompressed_size"] = m.uncompressed_size;
        j["payload"] = m.payload;
        j["scope"] = m.scope;
        SLIP_RETURN_IF_ERROR(ctx.out.line(j.dump()));
      } else {
        SLIP_RETURN_IF_ERROR(
            ctx.out.line(std::string(l.current ? "* " : "  ") + m.bucket + "  " + m.id + "  " +
                         m.cursor.display() + "  " + std::to_string(m.entries) + "  " +
                         std::to_string(m.compressed_size) + "  " + format_rfc3339(m.created_ns)));
      }
    }
  }
  return Status::ok();
}

}  // namespace slip::cli
