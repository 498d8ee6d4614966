// del and purge: a delete marker, or a purge that also drops the history.
#include "kv.h"

namespace slip::cli {

void register_kv_del(CLI::App& parent, Registry& registry) {
  for (const char* verb : {"del", "purge"}) {
    auto o = std::make_shared<KvKeyOptions>();
    const bool del = std::string(verb) == "del";
    CLI::App* app = parent.add_subcommand(
        verb, del ? "Delete a key (leaves a delete marker)" : "Purge a key and its history");
    app->add_option("BUCKET", o->bucket, "Bucket name")->required();
    app->add_option("KEY", o->key, "Key")->required();
    if (del)
      app->add_option("--revision", o->revision, "Delete only if the key is still at revision N")
          ->type_name("N");
    else
      app->add_option("--ttl", o->ttl,
                      "Expire the purge marker itself after DURATION, whole seconds, at least 1s "
                      "(nats-server 2.11+, a bucket made with kv add --marker-ttl)")
          ->type_name("DURATION");
    add_connection_flags(app, o->conn);
    set_long_help(app,
                  del ? "Writes a delete marker and prints its revision. With --revision, a "
                        "compare-and-delete.\n\nEXIT STATUS\n0 deleted; 1 the key changed since "
                        "revision N; 2 bad name; 4 server unavailable."
                      : "Writes a purge marker that replaces every earlier revision of KEY, and "
                        "prints its revision. With --ttl the marker carries a per-message TTL "
                        "(the Nats-TTL header): once it expires, the key leaves no trace in the "
                        "bucket. That needs nats-server 2.11 or later and a bucket that allows "
                        "per-message TTLs (slip kv add --marker-ttl).\n\nEXIT STATUS\n0 purged; "
                        "2 bad name, bad --ttl, a server before 2.11 or a bucket without "
                        "per-message TTLs (with --ttl); 4 server unavailable.");
    registry.set_runner(
        app, [o, verb = std::string(verb)](Context& ctx) { return run_kv_delete(verb, *o, ctx); });
  }
}

Status run_kv_delete(const std::string& verb, const KvKeyOptions& o, Context& ctx) {
  SLIP_RETURN_IF_ERROR(kv::validate_key(o.key));
  std::optional<std::chrono::nanoseconds> ttl;
  if (!o.ttl.empty()) {
    auto t = parse_ttl(o.ttl, "--ttl");
    if (!t) return t.status();
    ttl = *t;
  }
  std::unique_ptr<kv::Client> client;
  auto bucket = open_bucket(o.conn, o.bucket, &client);
  if (!bucket) return bucket.status();
  auto rev = verb == "del" ? (*bucket)->del(o.key, o.revision)
             : ttl         ? (*bucket)->purge_with_ttl(o.key, *ttl)
                           : (*bucket)->purge(o.key);
  if (!rev) return rev.status();
  return ctx.out.line(std::to_string(*rev));
}

}  // namespace slip::cli
