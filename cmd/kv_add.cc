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
  app->add_flag("--compress", o->compress, "Compress the bucket's data with s2 (nats-server 2.10+)");
  app->add_option("--metadata", o->metadata,
                  "Metadata of the bucket's stream, KEY=VALUE (repeatable; nats-server 2.10+)")
      ->type_name("KEY=VALUE");
  app->add_option("--cluster", o->cluster, "Place the bucket in this cluster")->type_name("NAME");
  app->add_option("--tags", o->tags, "Place the bucket on servers with these tags (repeatable)")
      ->type_name("TAG");
  app->add_option("--republish-source", o->republish_source,
                  "Republish messages on these subjects (default: all of the bucket's)")
      ->type_name("SUBJECT");
  app->add_option("--republish-destination", o->republish_dest,
                  "Republish each stored message to this subject")
      ->type_name("SUBJECT");
  app->add_flag("--republish-headers", o->republish_headers,
                "Republish only the headers, not the values");
  app->add_option("--mirror", o->mirror, "Make the bucket a read-only mirror of BUCKET")
      ->type_name("BUCKET");
  app->add_option("--mirror-domain", o->mirror_domain,
                  "The JetStream domain the --mirror bucket is in")
      ->type_name("DOMAIN");
  app->add_option("--source", o->sources, "Copy the keys of BUCKET into this one (repeatable)")
      ->type_name("BUCKET");
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
                "--compress, --metadata and --source need nats-server 2.10 or later (--source "
                "files the sourced keys under this bucket's subjects with a subject transform). "
                "Older servers drop settings they do not know without a word: slip checks the "
                "configuration the server kept, and when one is missing it removes the bucket it "
                "just made and says which setting (exit 2).\n\n"
                "--mirror makes a read-only copy of another bucket, kept by the server: slip reads "
                "it through the origin's subjects, as the official clients do, and writes to it go "
                "to the origin. A mirror cannot also have --source. With --mirror-domain the "
                "origin is in another JetStream domain (its API is $JS.DOMAIN.API); slip creates "
                "such a mirror but cannot read it yet.\n\n"
                "EXIT STATUS\n0 created or already there; 1 exists with other settings; 2 bad name "
                "or setting, or a setting the server does not have (--marker-ttl before 2.11; "
                "--compress, --metadata, --source before 2.10); 4 server unavailable.");
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
  cfg.compress = o.compress;
  for (const std::string& kv : o.metadata) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::invalid_argument("--metadata '" + kv + "': use KEY=VALUE");
    std::string key = kv.substr(0, eq);
    if (key.rfind("_nats.", 0) == 0)
      return Status::invalid_argument("--metadata '" + key + "': keys starting _nats. are the "
                                      "server's");
    cfg.metadata[key] = kv.substr(eq + 1);
  }
  cfg.placement_cluster = o.cluster;
  cfg.placement_tags = o.tags;
  if (o.republish_dest.empty() && (!o.republish_source.empty() || o.republish_headers))
    return Status::invalid_argument("--republish-source and --republish-headers need "
                                    "--republish-destination");
  cfg.republish_source = o.republish_source;
  cfg.republish_dest = o.republish_dest;
  cfg.republish_headers_only = o.republish_headers;
  if (!o.mirror_domain.empty() && o.mirror.empty())
    return Status::invalid_argument("--mirror-domain needs --mirror");
  if (!o.mirror.empty() && !o.sources.empty())
    return Status::invalid_argument("a bucket is either a --mirror or has --source buckets, not "
                                    "both");
  // natscli takes the origin's bucket name or its stream's (KV_NAME).
  auto origin_name = [](const std::string& name) {
    return name.rfind("KV_", 0) == 0 ? name.substr(3) : name;
  };
  if (!o.mirror.empty()) {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(origin_name(o.mirror)).with_context("--mirror"));
    if (origin_name(o.mirror) == cfg.name && o.mirror_domain.empty())
      return Status::invalid_argument("--mirror: a bucket cannot mirror itself");
  }
  for (const std::string& src : o.sources) {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(origin_name(src)).with_context("--source"));
    if (origin_name(src) == cfg.name)
      return Status::invalid_argument("--source: a bucket cannot source from itself");
  }
  cfg.mirror = o.mirror;
  cfg.mirror_domain = o.mirror_domain;
  cfg.sources = o.sources;
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
