// add and rm: creating and deleting buckets.
#include <limits>

#include "core/duration.h"
#include "kv.h"

namespace slip::cli {

namespace {

Result<std::int64_t> parse_bytes(const std::string& text) {
  if (text.empty()) return std::int64_t{-1};
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit(end);
  double mult = 1;
  if (unit == "K" || unit == "KB" || unit == "KiB")
    mult = 1024;
  else if (unit == "M" || unit == "MB" || unit == "MiB")
    mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB")
    mult = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "B") {
    return Status::invalid_argument("invalid size '" + text + "': use e.g. 1048576, 512K, 64M, 1G");
  }
  // !(v >= 0) also refuses NaN; the upper bound keeps the cast defined.
  if (end == text.c_str() || !(v >= 0) || v * mult > 9.0e18)
    return Status::invalid_argument("invalid size '" + text + "'");
  return static_cast<std::int64_t>(v * mult);
}

}  // namespace

void register_kv_add(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<KvBucketOptions>();
  CLI::App* app = parent.add_subcommand("add", "Create a bucket");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("--history", o->history, "Revisions kept per key (1-64, default 1)")
      ->type_name("N");
  app->add_option("--max-bytes,--max-bucket-size", o->max_bytes,
                  "Size limit of the bucket (e.g. 64M; default unlimited)")
      ->type_name("SIZE");
  app->add_option("--max-value-size", o->max_value_size,
                  "Largest value the bucket takes (e.g. 1M; default the server's max payload)")
      ->type_name("SIZE");
  app->add_option("--max-age,--ttl", o->max_age,
                  "Age after which revisions expire (e.g. 24h; default never)")
      ->type_name("DURATION");
  app->add_option("--marker-ttl", o->marker_ttl,
                  "Keep a marker this long when max-age removes a key, and allow per-message "
                  "TTLs (e.g. 1m; whole seconds; nats-server 2.11+)")
      ->type_name("DURATION");
  app->add_option("--replicas", o->replicas, "Replicas in a cluster (1-5, default 1)")
      ->type_name("N");
  app->add_option("--storage", o->storage, "file or memory (default file)")
      ->check(CLI::IsMember({"file", "memory"}))
      ->type_name("STORAGE");
  app->add_option("--description", o->description, "Description")->type_name("TEXT");
  add_connection_flags(app, o->conn);
  set_long_help(app,
                "Creates the bucket, or does nothing when it exists with the same settings. "
                "--ttl and --max-bucket-size are natscli's names for --max-age and --max-bytes "
                "(--ttl here is the bucket's max age, not a per-message TTL: see kv create "
                "--ttl).\n\n"
                "--marker-ttl (natscli's spelling) turns on limit markers: when --max-age removes "
                "the last revision of a key, the server writes a marker that watchers see, and "
                "removes it after DURATION. It also allows per-message TTLs (kv create --ttl, kv "
                "purge --ttl). It needs nats-server 2.11 or later; an older server is refused "
                "before anything is created.\n\n"
                "EXIT STATUS\n0 created or already there; 1 exists with other settings; 2 bad name "
                "or setting, or --marker-ttl on a server before 2.11; 4 server unavailable.");
  registry.set_runner(app, [o](Context& ctx) { return run_kv_add(*o, ctx); });

  auto r = std::make_shared<KvBucketOptions>();
  CLI::App* rm = parent.add_subcommand("rm", "Delete a bucket and everything in it");
  rm->add_option("BUCKET", r->bucket, "Bucket name")->required();
  add_connection_flags(rm, r->conn);
  set_long_help(rm, "EXIT STATUS\n0 deleted; 1 no such bucket; 2 bad name; 4 server unavailable.");
  registry.set_runner(rm, [r](Context& ctx) { return run_kv_rm(*r, ctx); });
}

Status run_kv_add(const KvBucketOptions& o, Context& ctx) {
  kv::BucketConfig cfg;
  cfg.name = o.bucket;
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(cfg.name));
  if (o.history < 1 || o.history > 64)
    return Status::invalid_argument("--history must be between 1 and 64");
  if (o.replicas < 1 || o.replicas > 5)
    return Status::invalid_argument("--replicas must be between 1 and 5");
  cfg.history = o.history;
  cfg.replicas = o.replicas;
  cfg.description = o.description;
  cfg.memory_storage = o.storage == "memory";
  auto bytes = parse_bytes(o.max_bytes);
  if (!bytes) return bytes.status().with_context("--max-bytes");
  cfg.max_bytes = *bytes;
  auto value_size = parse_bytes(o.max_value_size);
  if (!value_size) return value_size.status().with_context("--max-value-size");
  if (*value_size == 0 || *value_size > std::numeric_limits<std::int32_t>::max())
    return Status::invalid_argument("--max-value-size must be between 1 and 2G");
  cfg.max_value_size = static_cast<std::int32_t>(*value_size);
  if (!o.max_age.empty()) {
    auto age = parse_duration(o.max_age);
    if (!age) return age.status().with_context("--max-age");
    cfg.max_age = std::chrono::duration_cast<std::chrono::seconds>(*age);
  }
  if (!o.marker_ttl.empty()) {
    auto ttl = parse_ttl(o.marker_ttl, "--marker-ttl");
    if (!ttl) return ttl.status();
    cfg.marker_ttl = *ttl;
  }
  auto client = connect_from_flags(o.conn);
  if (!client) return client.status();
  auto bucket = (*client)->create_bucket(cfg);
  if (!bucket) return bucket.status();
  return ctx.out.line(cfg.name);
}

Status run_kv_rm(const KvBucketOptions& o, Context& ctx) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  auto client = connect_from_flags(o.conn);
  if (!client) return client.status();
  return (*client)->delete_bucket(o.bucket);
}

}  // namespace slip::cli
