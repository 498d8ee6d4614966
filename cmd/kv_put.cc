// put, create and update: the three ways to write a value.
#include <unistd.h>

#include "kv.h"

namespace slip::cli {

namespace {

Result<std::string> read_stdin() {
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "read standard input");
    }
    if (n == 0) return data;
    data.append(buf, static_cast<std::size_t>(n));
  }
}

CLI::App* add_write(CLI::App& parent, Registry& registry, const char* verb, const char* summary,
                    const char* long_help) {
  auto o = std::make_shared<KvKeyOptions>();
  CLI::App* app = parent.add_subcommand(verb, summary);
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("KEY", o->key, "Key")->required();
  app->add_option("VALUE", o->value, "Value (read from standard input when absent)");
  if (std::string(verb) == "create") {
    app->add_option("--ttl", o->ttl,
                    "Expire the value after DURATION, whole seconds, at least 1s (e.g. 30s, 1h; "
                    "nats-server 2.11+, a bucket made with kv add --marker-ttl; with history, at least "
                    "its marker TTL)")
        ->type_name("DURATION");
  }
  if (std::string(verb) == "put") {
    app->add_option("--ttl", o->ttl, "Refused: expiry would bring an older revision back; use kv create --ttl")
        ->type_name("DURATION");
  }
  if (std::string(verb) == "update") {
    app->add_option("--revision", o->revision, "The revision the key must still have")
        ->required()
        ->type_name("N");
  }
  add_connection_flags(app, o->conn);
  set_long_help(app, long_help);
  registry.set_runner(
      app, [o, verb = std::string(verb)](Context& ctx) { return run_kv_write(verb, *o, ctx); });
  return app;
}

}  // namespace

void register_kv_put(CLI::App& parent, Registry& registry) {
  add_write(parent, registry, "put", "Write a value and print its revision",
            "Writes VALUE (or standard input) to KEY and prints the new revision.\n\n"
            "--ttl is refused: when a TTL on put expired, the key's older revision would "
            "be its value again. Use kv create --ttl for a value that expires.\n\n"
            "EXIT STATUS\n0 written; 2 bad name, or --ttl; 4 server unavailable.");
  add_write(parent, registry, "create", "Write a value only if the key does not exist",
            "Like put, but fails when KEY holds a value (a deleted or purged key may be created "
            "again).\n\n"
            "With --ttl, the server removes the value once DURATION has passed (the Nats-TTL "
            "header). That needs nats-server 2.11 or later and a bucket that allows "
            "per-message TTLs (slip kv add --marker-ttl); anything else is refused.\n\n"
            "EXIT STATUS\n0 created; 1 the key already exists; 2 bad name, bad --ttl, a server "
            "before 2.11 or a bucket without per-message TTLs (with --ttl); 4 server "
            "unavailable.");
  add_write(parent, registry, "update", "Write a value only if the key is still at a revision",
            "Compare-and-set: writes only when the latest revision of KEY is N, and prints the new "
            "revision.\n\n"
            "EXIT STATUS\n0 written; 1 the key changed since revision N (CAS lost); 2 bad name; 4 "
            "server unavailable.");
}

Status run_kv_write(const std::string& verb, const KvKeyOptions& o, Context& ctx) {
  if (verb == "put" && !o.ttl.empty()) {
    return Status::invalid_argument(
        "kv put does not take --ttl: when the TTL expired, the key's older revision would be "
        "its value again; use kv create --ttl");
  }
  SLIP_RETURN_IF_ERROR(kv::validate_key(o.key));
  std::optional<std::chrono::nanoseconds> ttl;
  if (!o.ttl.empty()) {
    auto t = parse_ttl(o.ttl, "--ttl");
    if (!t) return t.status();
    ttl = *t;
  }
  std::string value;
  if (o.value) {
    value = *o.value;
  } else {
    if (o.conn.reads_stdin()) {
      return Status::invalid_argument("--creds-base64 - and a value read from standard input "
                                      "cannot share it: give VALUE as an argument, or the "
                                      "credentials in NATS_CREDS_B64");
    }
    auto in = read_stdin();
    if (!in) return in.status();
    value = std::move(*in);
  }
  std::unique_ptr<kv::Client> client;
  auto bucket = open_bucket(o.conn, o.bucket, &client);
  if (!bucket) return bucket.status();
  Result<std::uint64_t> rev = verb == "put" ? (*bucket)->put(o.key, value)
                              : verb == "create"
                                  ? (ttl ? (*bucket)->create_with_ttl(o.key, value, *ttl)
                                         : (*bucket)->create(o.key, value))
                                  : (*bucket)->update(o.key, value, *o.revision);
  if (!rev) return rev.status();
  return ctx.out.line(std::to_string(*rev));
}

}  // namespace slip::cli
