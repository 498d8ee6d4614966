// The mirror's metrics in the Prometheus text format (version 0.0.4).
// Names and labels are part of slip's stable output: see slip-mirror(1).
#include <cstdio>
#include <string>

#include "slip/mirror.h"

namespace slip::mirror {

namespace {

void metric(std::string* out, const char* name, const char* type, const char* help,
            const std::string& labels, double value) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out->append(name).append(labels).append(" ");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out->append(buf).append("\n");
}

// A label value: backslash, double quote and newline escaped.
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string prometheus_text(const Stats& stats, const std::string& bucket,
                            std::optional<std::uint64_t> stream_last) {
  const std::string labels = "{bucket=\"" + label_value(bucket) + "\"}";
  const std::uint64_t cursor = stats.cursor;
  std::string out;
  metric(&out, "slip_mirror_cursor_revision", "gauge",
         "The fold's committed cursor: every update up to this revision is applied.", labels,
         static_cast<double>(cursor));
  metric(&out, "slip_mirror_stream_up", "gauge",
         "1 when the bucket's newest revision could be read for this scrape.", labels,
         stream_last ? 1 : 0);
  if (stream_last) {
    metric(&out, "slip_mirror_stream_last_revision", "gauge", "The bucket's newest revision.",
           labels, static_cast<double>(*stream_last));
    metric(&out, "slip_mirror_lag_revisions", "gauge",
           "Newest revision minus the cursor (for prefix scopes this counts revisions outside "
           "the scope too).",
           labels, static_cast<double>(*stream_last > cursor ? *stream_last - cursor : 0));
  }
  metric(&out, "slip_mirror_pending_updates", "gauge",
         "In-scope updates the server still holds past the cursor, as of the last delivery.",
         labels, static_cast<double>(stats.pending.load()));
  metric(&out, "slip_mirror_caught_up", "gauge", "1 once the initial catch-up is done.", labels,
         stats.caught_up ? 1 : 0);
  metric(&out, "slip_mirror_keys", "gauge", "Live keys in the fold.", labels,
         static_cast<double>(stats.keys.load()));
  metric(&out, "slip_mirror_updates_applied_total", "counter",
         "Updates applied to the fold since the mirror started.", labels,
         static_cast<double>(stats.applied.load()));
  metric(&out, "slip_mirror_resyncs_total", "counter",
         "Resyncs after the bucket no longer held the updates past the cursor.", labels,
         static_cast<double>(stats.resyncs.load()));
  metric(&out, "slip_mirror_store_failures_total", "counter",
         "Failed commits to the fold (each is retried; 16 in a row stop the mirror).", labels,
         static_cast<double>(stats.store_failures.load()));
  metric(&out, "slip_mirror_last_commit_timestamp_seconds", "gauge",
         "Wall-clock time of the last commit (0 before the first).", labels,
         static_cast<double>(stats.last_commit_ns.load()) / 1e9);
  metric(&out, "slip_mirror_reconciles_total", "counter",
         "Reconciles of the fold with the bucket's live keys since the mirror started.", labels,
         static_cast<double>(stats.reconciles.load()));
  metric(&out, "slip_mirror_reconcile_deleted_keys_total", "counter",
         "Keys reconciles deleted from the fold: the server had removed them silently.", labels,
         static_cast<double>(stats.reconcile_deleted.load()));
  metric(&out, "slip_mirror_reconcile_refetched_keys_total", "counter",
         "Keys reconciles fetched again: their live revision was not the fold's.", labels,
         static_cast<double>(stats.reconcile_refetched.load()));
  metric(&out, "slip_mirror_reconcile_failures_total", "counter",
         "Reconciles that failed (a running mirror retries them after 30 s).", labels,
         static_cast<double>(stats.reconcile_failures.load()));
  metric(&out, "slip_mirror_last_reconcile_timestamp_seconds", "gauge",
         "Wall-clock time of the last reconcile (0 before the first).", labels,
         static_cast<double>(stats.last_reconcile_ns.load()) / 1e9);
  return out;
}

}  // namespace slip::mirror
