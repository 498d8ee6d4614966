#include "mirror.h"

#include <cstdio>

#include <chrono>
#include <functional>

#include "core/duration.h"
#include "core/text.h"
#include "core/time_format.h"
#include "mirror_export.h"
#include "progress.h"
#include "signals.h"
#include "slip/fold.h"
#include "slip/http_endpoint.h"
#include "slip/mirror.h"

namespace slip::cli {

void register_mirror(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<MirrorOptions>();
  CLI::App* app =
      parent.add_subcommand("mirror", "Keep a local fold of a bucket in sync, crash-safe");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("--to", o->to, "The fold: a snapshot file (log) or a directory (leveldb)")
      ->required()
      ->type_name("PATH");
  app->add_option("--backend", o->backend,
                  "log (default for a new fold) or leveldb; an existing fold's is detected")
      ->check(CLI::IsMember({"log", "leveldb"}))
      ->type_name("BACKEND");
  app->add_option("--prefix", o->prefixes, "Only keys starting with P (repeatable)")
      ->type_name("P");
  app->add_flag("--once", o->once,
                "Catch up to the head as of the start, commit, exit 0 (for cron)");
  app->add_flag("--sync", o->sync,
                "fsync every commit (the default relies on the fold being a cache)");
  app->add_option("--compact-threshold", o->compact_threshold,
                  "log backend: compact the file once it is larger than BYTES and mostly dead "
                  "(default 64 MiB; 0: never)")
      ->type_name("BYTES");
  app->add_option("--metrics", o->metrics,
                  "Serve Prometheus metrics at http://ADDR/metrics (HOST:PORT, or :PORT for "
                  "every interface)")
      ->type_name("ADDR");
  app->add_option("--log-format", o->log_format,
                  "Log lines on stderr as text (default) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT");
  app->add_flag("--no-progress", o->no_progress,
                "No progress bar while catching up (it is only drawn on a terminal anyway)");
  CLI::Option* export_to =
      app->add_option(
             "--export-to", o->export_to,
             "Export the fold to LOCATION between commits (file:///dir, a path, "
             "s3://bucket/prefix): once caught up, then every --export-every; with --once, "
             "once at the end")
          ->type_name("LOCATION");
  app->add_option("--export-every", o->export_every,
                  "With --export-to: how often the running mirror exports (default 1h)")
      ->type_name("DURATION")
      ->needs(export_to);
  app->add_option("--export-keep", o->export_keep,
                  "With --export-to: keep the N newest artifacts of the bucket, delete older ones "
                  "an hour after they were superseded")
      ->type_name("N")
      ->needs(export_to);
  app->add_flag("--reconcile", o->reconcile,
                "Reconcile the fold with the bucket once caught up at the start, whatever the "
                "bucket (see RECONCILE; useful with --once from cron)");
  app->add_option("--reconcile-every", o->reconcile_every,
                  "How often a running mirror reconciles (default 10m for a bucket with max_age "
                  "or per-message TTLs, else never; 0: never)")
      ->type_name("DURATION");
  add_location_flags(app, o->loc);
  add_connection_flags(app, o->conn);
  set_long_help(
      app,
      "Keeps a fold (the deduplicated state of the bucket plus the cursor it is complete up to) in "
      "step "
      "with the bucket. Each batch of updates is committed to the fold together with its cursor, "
      "so the "
      "fold's cursor never names a revision whose data it lacks; after a crash the mirror resumes "
      "from "
      "the cursor and re-applies what followed it. A failed commit (a full disk, say) is retried "
      "with "
      "the batch kept; after 16 failures in a row the mirror stops. Two mirrors never write one "
      "fold: "
      "the second is refused.\n\n"
      "If the bucket no longer holds the updates after the fold's cursor (retention evicted them), "
      "the "
      "mirror resyncs: it deletes from the fold every key in scope that the bucket no longer has, "
      "then "
      "re-reads the current state. The log backend is a PGSS v2 snapshot file (slip-snapshot(5)); "
      "a torn "
      "tail from a crash is truncated on start. The LevelDB backend is for folds bigger than "
      "RAM.\n\n"
      "SIGINT and SIGTERM stop the mirror after the batch in hand is committed (exit 0).\n\n"
      "The fold records the bucket and prefixes it was made from; mirroring another bucket or "
      "another set of prefixes into it is refused (exit 2).\n\n"
      "While the mirror runs with the every-key scope, a revision delivered past a gap while the "
      "bucket's first revision is beyond the gap means retention evicted updates before they were "
      "delivered: the mirror resyncs rather than diverge silently. Prefix scopes cannot tell an "
      "evicted revision from one outside the scope; there eviction is noticed at the next "
      "reconnect or restart.\n\n"
      "RECONCILE\n"
      "The server removes some data without writing anything a watcher receives. A reconcile "
      "finds it: one headers-only scan of the live keys in scope (key and revision, one "
      "last-per-subject consumer), compared with the fold, which then deletes the keys the "
      "bucket no longer has and fetches again the keys whose live revision is not the fold's; "
      "keys newer than the fold's cursor are left to the watch, and the cursor does not move. "
      "What is caught by what:\n"
      "- Delete and purge by clients (DEL, PURGE) and limit markers (nats-server 2.11+, "
      "subject_delete_marker_ttl: a key that ages out gets a marker with Nats-Marker-Reason "
      "MaxAge) are updates: applied as they come, while running and when resuming within the "
      "marker TTL.\n"
      "- max_age or per-message TTL expiry without limit markers (every version): caught by "
      "the reconcile at the start of every resume and every --reconcile-every (default 10m) "
      "while running: a running mirror's fold keeps an expired key for at most that long.\n"
      "- A per-message TTL expiring on a key that keeps older revisions (history > 1) makes the "
      "older revision live again without any marker: caught the same way, markers or not.\n"
      "- Limit markers that expired while the fold was away (stopped for longer than the marker "
      "TTL): the start's reconcile runs when the time since the fold was last known caught up "
      "(a commit or an idle moment with nothing pending, recorded with the fold; a fold stopped "
      "while still catching up keeps the older time), plus a margin, exceeds the marker TTL, or "
      "when that time is in the future.\n"
      "- Limits that evict with discard old (max_msgs, max_bytes set on the stream by another "
      "tool; slip's buckets discard new): the oldest revision may be a key's only one, so "
      "these buckets reconcile like those with max_age.\n"
      "- The stream purge API with a subject filter and the message-delete API, by an operator: "
      "no bucket setting announces them, so they are caught only by --reconcile (at the start) "
      "or by --reconcile-every set explicitly; otherwise they stay in the fold until a resync. "
      "slip diff FOLD kv:BUCKET shows them.\n"
      "- History evicted past the cursor: a resync (above), not a reconcile.\n"
      "Each reconcile is logged as a reconcile event and counted in the metrics. A reconcile due "
      "when a run stops (signal, crash) before it is done is recorded as owed and runs at the "
      "next start. One that fails under a running mirror is logged (reconcile_failed) and "
      "retried after 30 s; with --once it fails the run. Before deleting, a reconcile reads a "
      "few of the keys its scan did not list back one by one: if one is live, the scan is not "
      "trusted (e.g. a bucket whose subjects slip cannot read) and nothing is deleted. The cost "
      "on a 1M-key bucket is measured by bench/reconcile_bench.sh (bench/README.md).\n\n"
      "A bucket deleted and created again under the same name (or restored with slip import "
      "--to-bucket) is another stream: the fold records the stream's creation time, and a "
      "resume against a newer stream resyncs (event bucket_recreated) instead of mixing two "
      "buckets' data: the keys the new bucket lacks are deleted, the cursor starts again from 0 "
      "and the new bucket's state is read in full.\n\n"
      "LOGS\n"
      "Events go to stderr, one line each. --log-format text: 'slip: mirror: MESSAGE'. "
      "--log-format json: one JSON object per line with the fields time (RFC 3339, UTC), level "
      "(info, warn, error), event, bucket, msg, and the event's numbers: start (cursor, "
      "pending), caught_up (keys, cursor), cursor_expired (cursor), bucket_recreated (cursor), "
      "resync (live_keys, stale_keys), reconcile (scanned, deleted, refetched, ms), "
      "reconcile_failed (retry_s), "
      "commit_failed (attempt), stop (applied, keys, cursor, resyncs, "
      "store_failures), exported (cursor, keys, bytes), export_superseded (cursor), "
      "export_interrupted (cursor, when known), export_failed, error (the final error, in msg). "
      "While catching up on a terminal, a "
      "progress line (updates, rate, pending, ETA) is drawn on stderr; never on a pipe.\n\n"
      "EXPORTS\n"
      "--export-to LOCATION publishes the fold as an artifact (slip-artifact(5)) whose cursor is "
      "exactly the fold's: it is staged between two commits, then uploaded while the mirror goes "
      "on. A running mirror exports once caught up and then every --export-every (default 1h) "
      "when the cursor has moved; with --once, once at the end. A failed export is logged and "
      "tried again in the next period; one superseded by another exporter's newer artifact is "
      "logged and not an error. A stop (SIGINT, SIGTERM) interrupts an export in flight, "
      "aborting its upload; the pointer stays as it was and the next run exports again.\n\n"
      "METRICS\n"
      "--metrics ADDR serves the Prometheus text format at /metrics, each metric labelled "
      "bucket=\"B\": slip_mirror_cursor_revision, slip_mirror_stream_up, "
      "slip_mirror_stream_last_revision, slip_mirror_lag_revisions, slip_mirror_pending_updates, "
      "slip_mirror_caught_up, slip_mirror_keys, slip_mirror_updates_applied_total, "
      "slip_mirror_resyncs_total, slip_mirror_store_failures_total, "
      "slip_mirror_last_commit_timestamp_seconds, slip_mirror_reconciles_total, "
      "slip_mirror_reconcile_deleted_keys_total, slip_mirror_reconcile_refetched_keys_total, "
      "slip_mirror_reconcile_failures_total, slip_mirror_last_reconcile_timestamp_seconds.\n\n"
      "EXIT STATUS\n"
      "0 caught up (--once) or stopped by a signal (which abandons an export in flight, even "
      "the final one of --once: see the export_interrupted event); 2 bad arguments; 3 the fold "
      "is damaged; 4 server unavailable, the fold is in use by another mirror, or commits kept "
      "failing. A first run that fails (or is stopped) before its first commit leaves no fold "
      "behind.\n\n" +
          location_environment_help());
  registry.set_runner(app, [o](Context& ctx) { return run_mirror(*o, ctx); });
}

namespace {

// A first run that fails before its first commit (bad flags found late,
// an export location that cannot be opened, a consumer the server did not
// create in time) leaves no fold: an empty file would be a fold without a
// cursor, which snapshot verify rightly calls damaged.
class NewFoldCleanup {
 public:
  // STORE: the fold this run created, or nullptr for one that existed.
  NewFoldCleanup(std::unique_ptr<fold::Store>* store, std::string path, std::string backend)
      : store_(store), path_(std::move(path)), backend_(std::move(backend)) {}
  ~NewFoldCleanup() {
    if (store_ == nullptr || !*store_ || (*store_)->cursor()) return;
    store_->reset();
    if (Status removed = fold::remove_new_fold(path_, backend_); !removed)
      std::fprintf(stderr, "slip: warning: %s\n", removed.message().c_str());
  }
  NewFoldCleanup(const NewFoldCleanup&) = delete;
  NewFoldCleanup& operator=(const NewFoldCleanup&) = delete;
  void keep() { store_ = nullptr; }

 private:
  std::unique_ptr<fold::Store>* store_;
  std::string path_;
  std::string backend_;
};

// Writes one event to stderr in the chosen format.
class EventLog {
 public:
  EventLog(bool json, std::string bucket, ProgressBar* bar)
      : json_(json), bucket_(std::move(bucket)), bar_(bar) {}

  void operator()(const mirror::Event& e) const {
    if (bar_ != nullptr) bar_->clear();
    std::string line;
    if (!json_) {
      line = "slip: mirror: " + e.message;
    } else {
      line = "{\"time\":";
      append_json_string(&line, format_rfc3339(now_unix_ns()));
      line += ",\"level\":";
      append_json_string(&line, e.level);
      line += ",\"event\":";
      append_json_string(&line, e.name);
      line += ",\"bucket\":";
      append_json_string(&line, bucket_);
      line += ",\"msg\":";
      append_json_string(&line, e.message);
      for (const auto& [name, value] : e.fields) {
        line += ",\"";
        line += name;
        line += "\":" + std::to_string(value);
      }
      line += "}";
    }
    line += "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  bool json_;
  std::string bucket_;
  ProgressBar* bar_;
};

}  // namespace

Status run_mirror(const MirrorOptions& o, Context& ctx) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  for (const std::string& p : o.prefixes) SLIP_RETURN_IF_ERROR(kv::validate_prefix(p));
  auto existing = fold::detect_backend(o.to);
  if (!existing) return existing.status();
  std::string backend = *existing ? **existing : (o.backend.empty() ? "log" : o.backend);
  if (*existing && !o.backend.empty() && o.backend != backend) {
    return Status::invalid_argument(o.to + " is a " + backend + " fold, not " + o.backend +
                                    " (omit --backend, or choose another path)");
  }
  fold::Options fo;
  fo.sync = o.sync;
  fo.compact_threshold = o.compact_threshold;
  // Connected first: a server that cannot be reached leaves no fold behind.
  auto client = connect_from_flags(o.conn, /*daemon=*/!o.once);
  if (!client) return client.status();
  auto bucket = (*client)->open_bucket(o.bucket);
  if (!bucket) return bucket.status();
  auto store = backend == "log" ? fold::open_log(o.to, fo) : fold::open_leveldb(o.to, fo);
  if (!store) return store.status();
  NewFoldCleanup cleanup(*existing ? nullptr : &*store, o.to, backend);

  mirror::Stats stats;
  // Scrapes read the bucket's head through a handle of their own, on the
  // endpoint's thread (cnats connections are thread-safe).
  std::unique_ptr<http::Endpoint> endpoint;
  std::unique_ptr<kv::Bucket> scrape_bucket;
  if (!o.metrics.empty()) {
    auto b = (*client)->open_bucket(o.bucket);
    if (!b) return b.status();
    scrape_bucket = std::move(*b);
    auto e = http::Endpoint::start(o.metrics, [&stats, &scrape_bucket, &o] {
      std::optional<std::uint64_t> last;
      if (auto st = scrape_bucket->status()) last = st->last_sequence;
      return mirror::prometheus_text(stats, o.bucket, last);
    });
    if (!e) return e.status();
    endpoint = std::move(*e);
  }

  const bool json = o.log_format == "json";
  ProgressBar bar("slip: mirror: catching up", ProgressBar::Unit::kItems,
                  !o.no_progress && !json && ProgressBar::wanted());
  EventLog log(json, o.bucket, &bar);
  if (endpoint) {
    log({"info",
         "metrics",
         "metrics at http://" + o.metrics.substr(0, o.metrics.rfind(':')) + ":" +
             std::to_string(endpoint->port()) + "/metrics",
         {{"port", endpoint->port()}}});
  }

  std::unique_ptr<MirrorExport> exporter;
  if (!o.export_to.empty()) {
    auto every = parse_duration(o.export_every);
    if (!every) return every.status().with_context("--export-every");
    if (o.export_keep < 0) return Status::invalid_argument("--export-keep must be at least 0");
    // A stop interrupts an export in flight (the pointer stays as it was;
    // the next run exports again) rather than hold the stop for an upload.
    auto loc = open_location_from_flags(o.export_to, o.loc, stop_requested);
    if (!loc) return loc.status();
    artifact::ExportOptions eo;
    eo.interrupted = stop_requested;
    eo.bucket = o.bucket;
    eo.prefixes = o.prefixes;
    SLIP_RETURN_IF_ERROR(artifact::stage_in_location(**loc, &eo));
    if (o.export_keep > 0) eo.keep = static_cast<std::size_t>(o.export_keep);
    eo.log = [&log](const std::string& line) { log({"info", "export", line, {}}); };
    exporter = std::make_unique<MirrorExport>(
        std::move(*loc), std::move(eo),
        std::chrono::duration_cast<std::chrono::milliseconds>(*every), std::cref(log));
  }

  mirror::Options mo;
  mo.scope.prefixes = o.prefixes;
  mo.once = o.once;
  mo.reconcile_at_start = o.reconcile;
  if (!o.reconcile_every.empty()) {
    auto every = parse_duration(o.reconcile_every);
    if (!every) return every.status().with_context("--reconcile-every");
    mo.reconcile_every = *every;
  }
  install_stop_signals();
  mo.stop_requested = stop_requested;
  mo.log = [&](const mirror::Event& e) {
    log(e);
    // Show the catch-up from its start, not only from the first commit.
    if (std::string_view(e.name) == "start" && !stats.caught_up && stats.pending > 0)
      bar.update(stats.applied, stats.applied + stats.pending);
  };
  mo.stats = &stats;
  mo.on_commit = [&] {
    if (stats.caught_up) {
      bar.finish();
    } else {
      bar.update(stats.applied, stats.applied + stats.pending);
    }
  };
  if (exporter && !o.once) {
    mo.between_commits = [&](fold::Store& fold) { exporter->maybe_export(fold, stats.caught_up); };
  }
  mirror::Report report;
  Status s = mirror::run(**bucket, **store, mo, &report);
  if (s && exporter && o.once && !stop_requested()) s = exporter->export_now(**store);
  // Stopped by a signal, as documented: exit 0 (the export is logged).
  if (s.kind() == StatusKind::kInterrupted && stop_requested()) s = Status::ok();
  exporter.reset();  // an upload in flight ends (at once after a stop) before the summary
  bar.finish();
  log({"info",
       "stop",
       "applied " + std::to_string(report.applied) + " updates, " +
           std::to_string((*store)->size()) + " keys, cursor " + std::to_string(report.cursor) +
           (report.resyncs ? ", " + std::to_string(report.resyncs) + " resync(s)" : std::string()),
       {{"applied", report.applied},
        {"keys", (*store)->size()},
        {"cursor", report.cursor},
        {"resyncs", report.resyncs},
        {"store_failures", report.store_failures}}});
  if (!s && json) log({"error", "error", s.message(), {}});
  // Stopped before its first commit, the fold is as unfinished as after a
  // failure.
  if (s && !(stop_requested() && !(*store)->cursor())) cleanup.keep();
  (void)ctx;
  return s;
}

}  // namespace slip::cli
