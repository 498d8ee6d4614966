#include "kv.h"

namespace slip::cli {

void register_kv_keys(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<KvBucketOptions>();
  CLI::App* app = parent.add_subcommand("keys", "List the live keys of a bucket");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("PREFIX", o->prefix, "Only keys that start with PREFIX");
  add_connection_flags(app, o->conn);
  set_long_help(
      app,
      "Prints one live key per line, in the order of their latest revision. The keys come "
      "from one ordered consumer that delivers the last message of every key, headers "
      "only: one pass, no per-key requests, no values transferred.\n\n"
      "EXIT STATUS\n0 success (also for an empty bucket); 2 bad name; 4 server unavailable.");
  registry.set_runner(app, [o](Context& ctx) { return run_kv_keys(*o, ctx); });
}

Status run_kv_keys(const KvBucketOptions& o, Context& ctx) {
  kv::Scope scope;
  if (!o.prefix.empty()) {
    SLIP_RETURN_IF_ERROR(kv::validate_prefix(o.prefix));
    scope.prefixes.push_back(o.prefix);
  }
  std::unique_ptr<kv::Client> client;
  auto bucket = open_bucket(o.conn, o.bucket, &client);
  if (!bucket) return bucket.status();
  Status out;
  SLIP_RETURN_IF_ERROR((*bucket)->scan(scope, false, [&](const kv::Entry& e) {
    out = ctx.out.line(e.key);
    return out.is_ok();
  }));
  return out;
}

}  // namespace slip::cli
