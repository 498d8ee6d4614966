#include "kv.h"

namespace slip::cli {

void register_kv_get(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<KvKeyOptions>();
  CLI::App* app = parent.add_subcommand("get", "Print the value of a key");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("KEY", o->key, "Key")->required();
  app->add_flag("--json", o->json, "Print key, revision, created, op and value as one JSON object");
  add_connection_flags(app, o->conn);
  set_long_help(app,
                "Prints the raw value, byte for byte, with no newline added.\n\n"
                "EXIT STATUS\n"
                "0 found; 1 the key does not exist or was deleted or purged; 2 bad name; 4 server "
                "unavailable.");
  registry.set_runner(app, [o](Context& ctx) { return run_kv_get(*o, ctx); });
}

Status run_kv_get(const KvKeyOptions& o, Context& ctx) {
  SLIP_RETURN_IF_ERROR(kv::validate_key(o.key));
  std::unique_ptr<kv::Client> client;
  auto bucket = open_bucket(o.conn, o.bucket, &client);
  if (!bucket) return bucket.status();
  auto e = (*bucket)->get(o.key);
  if (!e) return e.status();
  if (o.json) return ctx.out.line(entry_json(*e, true));
  return ctx.out.write(e->value);
}

}  // namespace slip::cli
