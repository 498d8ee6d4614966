#include "watch.h"

#include "core/time_format.h"
#include "signals.h"
#include "watch/cursor_file.h"
#include "watch_sinks.h"

namespace slip::cli {

void register_watch(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<WatchOptions>();
  CLI::App* app =
      parent.add_subcommand("watch", "Stream a bucket's changes, resumable from a cursor");
  app->add_option("BUCKET", o->bucket, "Bucket name")->required();
  app->add_option("PREFIX", o->prefixes,
                  "Only keys starting with one of these prefixes (default: all keys)");
  app->add_option("--format", o->format,
                  "json (default), text, or value (raw values, one per line)")
      ->check(CLI::IsMember({"json", "text", "value"}))
      ->type_name("FORMAT");
  app->add_option("--since", o->since, "Resume after revision REV: deliver only later updates")
      ->type_name("REV")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--cursor-file", o->cursor_file,
                  "Resume from the revision in FILE, and record there each revision once applied")
      ->type_name("FILE");
  app->add_option("--on-expired", o->on_expired,
                  "When the cursor is older than the bucket's history: fail (default) or relist "
                  "(a RESET line, then a full state-sync)")
      ->check(CLI::IsMember({"fail", "relist"}))
      ->type_name("ACTION");
  app->add_option("--exec", o->exec,
                  "Run CMD once per batch with the batch as JSON lines on its stdin")
      ->type_name("CMD");
  app->add_option("--batch-max", o->batch_max, "Updates per batch at most (default 1000)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app->add_option("--batch-window", o->batch_window_ms,
                  "Milliseconds a batch may wait to fill (default 50)")
      ->type_name("MS");
  app->add_flag(
      "--until-caught-up", o->until_caught_up,
      "Exit 0 once the current state (or the delta up to the head at start) is delivered");
  app->add_option("--count", o->count, "Exit 0 after N updates")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app->add_flag("--updates-only", o->updates_only,
                "Skip the current state; deliver only new updates");
  app->add_flag("--ignore-deletes", o->ignore_deletes, "Do not deliver DEL and PURGE updates");
  add_connection_flags(app, o->conn);
  set_long_help(
      app,
      "Delivers the current value of every matching key first (state-sync), then live updates, "
      "with no "
      "gap between the two. With --since or --cursor-file only the updates after that revision are "
      "delivered. The watch survives server restarts and reconnects to other cluster nodes without "
      "gaps "
      "or duplicates.\n\n"
      "Output (--format json): one JSON object per line with op (PUT, DEL, PURGE), key, revision, "
      "created (RFC 3339, UTC), reason for a marker the server wrote (MaxAge, Purge, Remove: "
      "nats-server 2.11+ limit markers, delivered as PURGE or DEL) and, for PUT, value when the "
      "value is valid UTF-8, else value_b64 (base64).\n\n"
      "What a watch cannot see: the server removes revisions without writing anything a watcher "
      "receives when a bucket has max_age or per-message TTLs and no limit markers (a key that "
      "ages out simply stops existing), when a per-message TTL expires on a key that keeps older "
      "revisions (the older one is live again), and when an operator calls the stream purge or "
      "message delete API. A watch reports none of these; with --cursor-file on a bucket where "
      "the first two can happen it warns once on standard error. slip mirror reconciles its fold "
      "for them (see slip-mirror(1)); slip diff compares a fold with the bucket.\n\n"
      "Cursor-after-apply: with --cursor-file, a revision is written to FILE (atomically) only "
      "after "
      "the lines up to it have been written and flushed to standard output, or with --exec, after "
      "the "
      "command exited 0 on the batch. A crash therefore re-delivers, never skips. A command that "
      "exits "
      "non-zero stops the watch with the cursor unchanged. FILE holds the revision on its first "
      "line (what head -1 gives a script) and, on the second, stream_created=TIME: the creation "
      "time of the bucket's stream (RFC 3339), which tells a bucket deleted and created again "
      "under the same name from the one the cursor was written against. A file of one line "
      "(from an older slip) adopts the bucket's current stream.\n\n"
      "Before resuming, the bucket's history is checked: if it no longer reaches back to the "
      "cursor, "
      "the updates in between are gone and the watch fails (exit 1) unless --on-expired relist, "
      "which first writes {\"op\":\"RESET\",\"expired_cursor\":N} (text: RESET after @N; "
      "with --exec, the command's input alone): drop what you hold, the whole current state "
      "follows (keys deleted in the gap appear in no update). A cursor file written against a "
      "stream that is no longer the bucket's (the bucket was deleted and created again) is "
      "treated the same way: exit 1, or with --on-expired relist the RESET line and the new "
      "bucket's whole state. "
      "Several prefixes share one consumer over the bucket (nats-server 2.9 has no multi-filter "
      "consumers), so one cursor covers them all.\n\n"
      "EXIT STATUS\n"
      "0 stopped by --until-caught-up or --count, or standard output was closed (piped to "
      "head, say); 1 the cursor expired (or belongs to a bucket "
      "deleted and created again), or the --exec command "
      "failed; "
      "2 bad arguments; 4 server unavailable; 130 interrupted (the batch in hand is finished and "
      "the "
      "cursor recorded first).");
  registry.set_runner(app, [o](Context& ctx) { return run_watch(*o, ctx); });
}

Status run_watch(const WatchOptions& o, Context& ctx) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  for (const std::string& p : o.prefixes) SLIP_RETURN_IF_ERROR(kv::validate_prefix(p));
  if (o.batch_max == 0) return Status::invalid_argument("--batch-max must be at least 1");
  if (o.batch_window_ms < 0) return Status::invalid_argument("--batch-window must not be negative");

  std::optional<watch::CursorFile> cursor_file;
  std::optional<std::uint64_t> resume = o.since;
  bool from_file = false;  // RESUME is the cursor file's
  if (!o.cursor_file.empty()) {
    cursor_file.emplace(o.cursor_file);
    auto stored = cursor_file->load();
    if (!stored) return stored.status();
    if (*stored) resume = *stored;
    from_file = stored->has_value();
  }

  const bool daemon = !o.until_caught_up && !o.count;
  auto client = connect_from_flags(o.conn, daemon);
  if (!client) return client.status();
  auto bucket = (*client)->open_bucket(o.bucket);
  if (!bucket) return bucket.status();

  std::optional<std::uint64_t> expired;  // the cursor given up for a relist
  if (cursor_file) {
    auto st = (*bucket)->status();
    if (!st) return st.status();
    // A resumable watch is a fold kept elsewhere: say once that it cannot
    // follow the removals this bucket's server makes silently.
    if (st->removes_silently()) {
      std::fprintf(stderr,
                   "slip: warning: bucket %s removes keys without telling watchers (max_age or "
                   "per-message TTLs%s): a consumer resuming from %s may keep keys the bucket no "
                   "longer has; see slip-watch(1), or use slip mirror, which reconciles\n",
                   o.bucket.c_str(), st->marker_ttl_ns == 0 ? " without limit markers" : "",
                   o.cursor_file.c_str());
    }
    // The cursor's revisions belong to the stream it was written against:
    // a bucket deleted and created again is another stream.
    const std::int64_t known = cursor_file->stream_created_ns();
    if (from_file && known != 0 && st->created_ns != 0 &&
        known != st->created_ns) {
      Status gone = Status::cursor_expired(
          "bucket " + o.bucket + " was deleted and created again since the cursor in " +
          o.cursor_file + " was written (the stream was created " +
          format_rfc3339(st->created_ns) + ", the cursor's at " + format_rfc3339(known) +
          "): its revision " + std::to_string(*resume) + " means nothing in the new bucket");
      if (o.on_expired != "relist") {
        return Status::cursor_expired(gone.message() +
                                      "; use --on-expired relist to start over from its state");
      }
      std::fprintf(stderr, "slip: warning: %s; relisting the whole bucket\n",
                   gone.message().c_str());
      expired = resume;
      resume.reset();
    }
    cursor_file->set_stream_created_ns(st->created_ns);
  }

  kv::WatchOptions wo;
  wo.scope.prefixes = o.prefixes;
  wo.state_sync = !o.updates_only || expired.has_value();
  wo.resume_after = resume;
  auto watcher = (*bucket)->watch(wo);
  if (!watcher && watcher.status().kind() == StatusKind::kCursorExpired &&
      o.on_expired == "relist") {
    std::fprintf(stderr, "slip: warning: %s; relisting the whole bucket\n",
                 watcher.status().message().c_str());
    expired = wo.resume_after;
    wo.resume_after.reset();
    wo.state_sync = true;
    watcher = (*bucket)->watch(wo);
  }
  if (!watcher) return watcher.status();

  PrintSink print(ctx.out, o.format);
  ExecSink exec(o.exec);
  watch::UpdateSink& sink = o.exec.empty() ? static_cast<watch::UpdateSink&>(print) : exec;
  // Keys deleted in the gap are in no update that follows: the consumer
  // must drop what it holds before the relisted state.
  if (expired) SLIP_RETURN_IF_ERROR(o.exec.empty() ? print.reset(*expired) : exec.reset(*expired));

  watch::LoopOptions lo;
  lo.batch_max = o.batch_max;
  lo.batch_window = std::chrono::milliseconds(o.batch_window_ms);
  lo.count = o.count;
  lo.until_caught_up = o.until_caught_up;
  lo.ignore_deletes = o.ignore_deletes;
  install_stop_signals();
  lo.stop_requested = stop_requested;
  return watch::run_loop(**watcher, sink, cursor_file ? &*cursor_file : nullptr, lo, nullptr);
}

}  // namespace slip::cli
