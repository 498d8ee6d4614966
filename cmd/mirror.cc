#include "mirror.h"

#include <cstdio>

#include "signals.h"
#include "slip/fold.h"
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
      "EXIT STATUS\n"
      "0 caught up (--once) or stopped by a signal; 2 bad arguments; 3 the fold is damaged; 4 "
      "server "
      "unavailable, the fold is in use by another mirror, or commits kept failing.");
  registry.set_runner(app, [o](Context& ctx) { return run_mirror(*o, ctx); });
}

namespace {

void log_line(const std::string& text) { std::fprintf(stderr, "slip: mirror: %s\n", text.c_str()); }

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
  auto store = backend == "log" ? fold::open_log(o.to, fo) : fold::open_leveldb(o.to, fo);
  if (!store) return store.status();

  auto client = connect_from_flags(o.conn, /*daemon=*/!o.once);
  if (!client) return client.status();
  auto bucket = (*client)->open_bucket(o.bucket);
  if (!bucket) return bucket.status();

  mirror::Options mo;
  mo.scope.prefixes = o.prefixes;
  mo.once = o.once;
  install_stop_signals();
  mo.stop_requested = stop_requested;
  mo.log = log_line;
  mirror::Report report;
  Status s = mirror::run(**bucket, **store, mo, &report);
  log_line("applied " + std::to_string(report.applied) + " updates, " +
           std::to_string((*store)->size()) + " keys, cursor " + std::to_string(report.cursor) +
           (report.resyncs ? ", " + std::to_string(report.resyncs) + " resync(s)" : std::string()));
  (void)ctx;
  return s;
}

}  // namespace slip::cli
