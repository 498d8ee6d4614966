// status and ls: what a bucket (or every bucket) holds and how it is configured.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/time_format.h"
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
          {"last_revision", s.last_sequence},
          {"max_age_ns", s.max_age_ns},
          {"allow_msg_ttl", s.allow_msg_ttl},
          {"marker_ttl_ns", s.marker_ttl_ns},
          {"description", s.description},
          {"max_value_size", s.max_value_size},
          {"compression", s.compression},
          {"created", s.created_ns != 0 ? format_rfc3339(s.created_ns) : std::string()},
          {"mirror", s.mirror},
          {"sources", s.sources},
          {"allow_msg_counter", s.allow_msg_counter}};
}

// "2s", "1m30s", "1.5s" for a nanosecond count; "0s" for 0.
std::string duration_text(std::int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  std::int64_t secs = ns / 1'000'000'000;
  const std::int64_t frac = ns % 1'000'000'000;
  if (secs >= 3600) out += std::to_string(secs / 3600) + "h", secs %= 3600;
  if (secs >= 60) out += std::to_string(secs / 60) + "m", secs %= 60;
  if (secs != 0 || frac != 0 || out.empty()) {
    out += std::to_string(secs);
    if (frac != 0) {
      char digits[16];
      std::snprintf(digits, sizeof(digits), ".%09lld", static_cast<long long>(frac));
      std::string f(digits);
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    out += "s";
  }
  return out;
}

// Server-supplied text for a terminal: control characters (escape
// sequences, newlines) shown as '?'.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// The settings of nats-server 2.11+ that a table row leaves out, to the
// nanosecond.
std::string ttl_lines(const kv::BucketStatus& s) {
  std::string out = "max age:          ";
  out += s.max_age_ns == 0 ? std::string("forever")
                           : duration_text(s.max_age_ns) + " (" + std::to_string(s.max_age_ns) +
                                 " ns)";
  out += "\nper-message TTLs: ";
  out += s.allow_msg_ttl ? "allowed" : "not allowed";
  out += "\nmarker TTL:       ";
  out += s.marker_ttl_ns == 0 ? std::string("none (no limit markers)")
                              : duration_text(s.marker_ttl_ns) + " (" +
                                    std::to_string(s.marker_ttl_ns) + " ns)";
  if (!s.description.empty()) out += "\ndescription:      " + printable(s.description);
  if (s.max_value_size >= 0) out += "\nmax value size:   " + std::to_string(s.max_value_size);
  if (s.compression != "none") out += "\ncompression:      " + printable(s.compression);
  if (s.created_ns != 0) out += "\ncreated:          " + format_rfc3339(s.created_ns);
  if (!s.mirror.empty()) out += "\nmirror of:        " + printable(s.mirror);
  for (const std::string& src : s.sources) out += "\nsource:           " + printable(src);
  if (s.allow_msg_counter) out += "\ncounter stream:   yes (writes refused)";
  return out;
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
                "first_revision, last_revision, max_age_ns (max_age to the nanosecond), "
                "allow_msg_ttl (per-message TTLs allowed: kv create --ttl, kv purge --ttl), "
                "marker_ttl_ns (how long a limit marker lives; 0: no markers; see kv add "
                "--marker-ttl), description, max_value_size (-1: the server's max payload), "
                "compression (none, s2), created (RFC 3339, UTC: when the bucket's stream was "
                "made), mirror (the stream it mirrors, or empty), sources (the streams it sources "
                "from), allow_msg_counter (a counter stream, nats-server 2.12+: slip reads its "
                "values and refuses to write them). The text form adds the TTL settings and the "
                "others that are set below the table.\n\n"
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
  SLIP_RETURN_IF_ERROR(ctx.out.line(status_row(*s)));
  return ctx.out.line(ttl_lines(*s));
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
