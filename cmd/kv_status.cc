// status and ls: what a bucket (or every bucket) holds and how it is configured.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "core/time_format.h"
#include "kv.h"

namespace slip::cli {

namespace {

nlohmann::json source_json(const kv::StreamSource& src) {
  return {{"name", src.name},
          {"external_api", src.external_api},
          {"lag", src.lag},
          {"active_ns", src.active_ns}};
}

nlohmann::json sources_json(const std::vector<kv::StreamSource>& sources) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& src : sources) out.push_back(source_json(src));
  return out;
}

nlohmann::json republish_json(const kv::BucketStatus& s) {
  if (s.republish_dest.empty()) return nullptr;
  return {{"source", s.republish_source},
          {"destination", s.republish_dest},
          {"headers_only", s.republish_headers_only}};
}

nlohmann::json cluster_json(const kv::BucketStatus& s) {
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& r : s.cluster_replicas) {
    replicas.push_back(
        {{"name", r.name}, {"current", r.current}, {"offline", r.offline}, {"lag", r.lag}});
  }
  return {{"name", s.cluster_name}, {"leader", s.cluster_leader}, {"replicas", replicas}};
}

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
          {"allow_msg_counter", s.allow_msg_counter},
          {"metadata", s.metadata},
          {"placement", {{"cluster", s.placement_cluster}, {"tags", s.placement_tags}}},
          {"republish", republish_json(s)},
          {"mirror_state", s.mirror_state ? source_json(*s.mirror_state) : nlohmann::json()},
          {"source_states", sources_json(s.source_states)},
          {"cluster", cluster_json(s)}};
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

// "2.5s ago" for a duration since the origin was last heard from; "never"
// for -1 (the server's "not yet").
std::string seen_text(std::int64_t active_ns) {
  constexpr std::int64_t kMs = 1'000'000;  // nanoseconds below a millisecond are noise here
  return active_ns < 0 ? std::string("never") : duration_text(active_ns / kMs * kMs) + " ago";
}

std::string source_text(const kv::StreamSource& src) {
  std::string out = printable(src.name);
  if (!src.external_api.empty()) out += " (API " + printable(src.external_api) + ")";
  return out + ", " + std::to_string(src.lag) + " behind, last seen " + seen_text(src.active_ns);
}

std::string limit_text(std::int64_t limit) {
  return limit < 0 ? std::string("unlimited") : std::to_string(limit);
}

// One "label: value" line; labels padded so the values line up.
void row(std::string* out, const std::string& label, const std::string& value) {
  std::string line = label + ":";
  line.resize(std::max<std::size_t>(line.size() + 1, 18), ' ');
  *out += line + value + "\n";
}

// natscli's "kv info" block: everything kv status --json has, one line each.
std::string status_block(const kv::BucketStatus& s) {
  std::string out;
  row(&out, "bucket", printable(s.name));
  row(&out, "stream", "KV_" + printable(s.name));
  if (!s.description.empty()) row(&out, "description", printable(s.description));
  if (s.created_ns != 0) row(&out, "created", format_rfc3339(s.created_ns));
  row(&out, "storage", s.memory_storage ? "memory" : "file");
  row(&out, "replicas", std::to_string(s.replicas));
  row(&out, "history", std::to_string(s.history));
  row(&out, "values", std::to_string(s.values));
  row(&out, "bytes", std::to_string(s.bytes));
  row(&out, "first revision", std::to_string(s.first_sequence));
  row(&out, "last revision", std::to_string(s.last_sequence));
  row(&out, "max bytes", limit_text(s.max_bytes));
  row(&out, "max value size", limit_text(s.max_value_size));
  row(&out, "max age",
      s.max_age_ns == 0 ? std::string("forever")
                        : duration_text(s.max_age_ns) + " (" + std::to_string(s.max_age_ns) + " ns)");
  row(&out, "per-message TTLs", s.allow_msg_ttl ? "allowed" : "not allowed");
  row(&out, "marker TTL",
      s.marker_ttl_ns == 0 ? std::string("none (no limit markers)")
                           : duration_text(s.marker_ttl_ns) + " (" +
                                 std::to_string(s.marker_ttl_ns) + " ns)");
  row(&out, "compression", printable(s.compression));
  for (const auto& [k, v] : s.metadata) row(&out, "metadata", printable(k) + "=" + printable(v));
  if (!s.placement_cluster.empty() || !s.placement_tags.empty()) {
    std::string placement;
    if (!s.placement_cluster.empty()) placement = "cluster " + printable(s.placement_cluster);
    for (std::size_t i = 0; i < s.placement_tags.size(); ++i) {
      placement += (i == 0 ? (placement.empty() ? "tags " : "; tags ") : ", ") +
                   printable(s.placement_tags[i]);
    }
    row(&out, "placement", placement);
  }
  if (!s.republish_dest.empty()) {
    row(&out, "republish",
        printable(s.republish_source) + " to " + printable(s.republish_dest) +
            (s.republish_headers_only ? " (headers only)" : ""));
  }
  if (!s.mirror.empty()) {
    row(&out, "mirror of",
        s.mirror_state ? source_text(*s.mirror_state) : printable(s.mirror) + " (no state yet)");
  }
  if (s.source_states.empty()) {
    for (const std::string& src : s.sources) row(&out, "source", printable(src));
  }
  for (const auto& src : s.source_states) row(&out, "source", source_text(src));
  if (s.allow_msg_counter) row(&out, "counter stream", "yes (writes refused)");
  if (!s.cluster_name.empty()) {
    row(&out, "cluster", printable(s.cluster_name) + ", leader " + printable(s.cluster_leader));
    for (const auto& r : s.cluster_replicas) {
      std::string state = printable(r.name) + (r.current ? " current" : " outdated");
      if (r.offline) state += ", OFFLINE";
      if (r.lag != 0) state += ", " + std::to_string(r.lag) + " operations behind";
      row(&out, "replica", state);
    }
  }
  out.pop_back();  // the last newline: ctx.out.line adds it
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
  app->alias("info");  // natscli's name
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
                "values and refuses to write them), metadata (the user's KEY: VALUE pairs; the "
                "server's own _nats.* entries are left out), placement {cluster, tags}, republish "
                "({source, destination, headers_only} or null), mirror_state and source_states "
                "({name, external_api, lag (messages behind the origin), active_ns (since the "
                "origin was last heard from; -1: never)}; null and [] when there are none, or "
                "before the server has reported them), cluster {name, leader, replicas [{name, "
                "current, offline, lag}]} (empty name: not clustered).\n\n"
                "The text form is one 'label: value' line per setting, as natscli's 'kv info' "
                "shows them; 'info' is another name for this command. A mirror lags its origin: "
                "its line says how far behind it is.\n\n"
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
  return ctx.out.line(status_block(*s));
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
