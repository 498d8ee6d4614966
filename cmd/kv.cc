#include "kv.h"

#include "core/duration.h"
#include "core/time_format.h"
#include "json_fields.h"

namespace slip::cli {

void register_kv(CLI::App& parent, Registry& registry) {
  CLI::App* app =
      parent.add_subcommand("kv", "Read and write keys, and manage buckets, from scripts");
  app->require_subcommand(1);
  set_long_help(
      app,
      "Key-Value operations for shell scripts. Values are read and printed raw (no added "
      "newline), revisions are printed as plain numbers, and every outcome has its own exit "
      "code: a missing key or a lost compare-and-set is exit 1, a bad bucket or key name "
      "exit 2, an unreachable server exit 4. Key and bucket names follow the NATS rules "
      "(keys: letters, digits, - _ / = and '.', not at either end; buckets: letters, "
      "digits, - and _).");
  register_kv_get(*app, registry);
  register_kv_put(*app, registry);
  register_kv_del(*app, registry);
  register_kv_keys(*app, registry);
  register_kv_history(*app, registry);
  register_kv_status(*app, registry);
  register_kv_add(*app, registry);
}

Result<std::unique_ptr<kv::Bucket>> open_bucket(const ConnectionFlags& conn,
                                                const std::string& bucket,
                                                std::unique_ptr<kv::Client>* client) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(bucket));
  auto c = connect_from_flags(conn);
  if (!c) return c.status();
  *client = std::move(*c);
  return (*client)->open_bucket(bucket);
}

Result<std::chrono::nanoseconds> parse_ttl(const std::string& text, const char* flag) {
  auto d = parse_duration(text);
  if (!d) return d.status().with_context(flag);
  if (*d < std::chrono::seconds(1) || *d % std::chrono::seconds(1) != d->zero()) {
    return Status::invalid_argument(std::string(flag) + ": '" + text +
                                    "' is not a whole number of seconds of at least 1s (the "
                                    "server keeps TTLs in seconds)");
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(*d);
}

std::string entry_json(const kv::Entry& e, bool with_value) {
  std::string line = "{\"key\":";
  append_json_string(&line, e.key);
  line += ",\"revision\":" + std::to_string(e.revision);
  line += ",\"created\":\"" + format_rfc3339(e.created_ns) + "\"";
  line += ",\"op\":\"" + std::string(kv::operation_name(e.op)) + "\"";
  if (!e.reason.empty()) {
    line += ",\"reason\":";
    append_json_string(&line, e.reason);
  }
  if (with_value && e.op == kv::Operation::kPut) append_value_field(&line, e.value);
  line += "}";
  return line;
}

}  // namespace slip::cli
