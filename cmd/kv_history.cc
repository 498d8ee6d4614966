#include "kv.h"

namespace slip::cli {

void register_kv_history(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<KvKeyOptions>();
  CLI::App* app =
      parent.add_subcommand("history", "Print every revision the bucket still holds for a key");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("KEY", o->key, "Key")->required();
  add_connection_flags(app, o->conn);
  set_long_help(app,
                "One JSON line per revision, oldest first: key, revision, created, op (PUT, DEL, "
                "PURGE) and value or value_b64.\n\n"
                "EXIT STATUS\n0 success; 1 no revision of the key is held; 2 bad name; 4 server "
                "unavailable.");
  registry.set_runner(app, [o](Context& ctx) { return run_kv_history(*o, ctx); });
}

Status run_kv_history(const KvKeyOptions& o, Context& ctx) {
  SLIP_RETURN_IF_ERROR(kv::validate_key(o.key));
  std::unique_ptr<kv::Client> client;
  auto bucket = open_bucket(o.conn, o.bucket, &client);
  if (!bucket) return bucket.status();
  auto entries = (*bucket)->history(o.key);
  if (!entries) return entries.status();
  for (const kv::Entry& e : *entries) SLIP_RETURN_IF_ERROR(ctx.out.line(entry_json(e, true)));
  return Status::ok();
}

}  // namespace slip::cli
