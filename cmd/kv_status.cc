// status and ls: what a bucket (or every bucket) holds and how it is configured.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "kv.h"

namespace slip::cli {

namespace {

nlohmann::json status_json(const kv::BucketStatus& s) {
  return {{"bucket", s.name},
          {"values", s.values},
          {"bytes", s.bytes},
          {"history", s.history},
          {"max_bytes", s.max_bytes},
          {"max_age_seconds", s.max_age.count()},
          {"replicas", s.replicas},
          {"storage", s.memory_storage ? "memory" : "file"},
          {"first_revision", s.first_sequence},
          {"last_revision", s.last_sequence}};
}

std::string status_row(const kv::BucketStatus& s) {
  char row[256];
  std::snprintf(row, sizeof(row), "%-24s %10llu %12llu %7d %8d %-6s %12llu", s.name.c_str(),
                static_cast<unsigned long long>(s.values), static_cast<unsigned long long>(s.bytes),
                s.history, s.replicas, s.memory_storage ? "memory" : "file",
                static_cast<unsigned long long>(s.last_sequence));
  return row;
}

constexpr const char* kHeader =
    "BUCKET                       VALUES        BYTES HISTORY REPLICAS STORE  LAST_REV";

}  // namespace

void register_kv_status(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<KvBucketOptions>();
  CLI::App* app = parent.add_subcommand("status", "Show a bucket's configuration and size");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_flag("--json", o->json, "Print one JSON object");
  add_connection_flags(app, o->conn);
  set_long_help(app,
                "JSON fields: bucket, values (messages held, all revisions), bytes, history, "
                "max_bytes (-1: unlimited), max_age_seconds (0: forever), replicas, storage, "
                "first_revision, last_revision.\n\n"
                "EXIT STATUS\n0 success; 1 no such bucket; 2 bad name; 4 server unavailable.");
  registry.set_runner(app, [o](Context& ctx) { return run_kv_status(*o, ctx); });

  auto l = std::make_shared<KvBucketOptions>();
  CLI::App* ls = parent.add_subcommand("ls", "List the buckets");
  ls->add_flag("--json", l->json, "Print one JSON object per line");
  add_connection_flags(ls, l->conn);
  set_long_help(
      ls,
      "A table, or with --json one object per bucket with the fields of 'slip kv status'.\n\n"
      "EXIT STATUS\n0 success; 4 server unavailable.");
  registry.set_runner(ls, [l](Context& ctx) { return run_kv_ls(*l, ctx); });
}

Status run_kv_status(const KvBucketOptions& o, Context& ctx) {
  std::unique_ptr<kv::Client> client;
  auto bucket = open_bucket(o.conn, o.bucket, &client);
  if (!bucket) return bucket.status();
  auto s = (*bucket)->status();
  if (!s) return s.status();
  if (o.json) return ctx.out.line(status_json(*s).dump());
  SLIP_RETURN_IF_ERROR(ctx.out.line(kHeader));
  return ctx.out.line(status_row(*s));
}

Status run_kv_ls(const KvBucketOptions& o, Context& ctx) {
  auto client = connect_from_flags(o.conn);
  if (!client) return client.status();
  auto list = (*client)->list_buckets();
  if (!list) return list.status();
  if (!o.json) SLIP_RETURN_IF_ERROR(ctx.out.line(kHeader));
  for (const auto& s : *list)
    SLIP_RETURN_IF_ERROR(ctx.out.line(o.json ? status_json(s).dump() : status_row(s)));
  return Status::ok();
}

}  // namespace slip::cli
