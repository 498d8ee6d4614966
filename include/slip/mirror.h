// The mirror: keeps a fold in step with a bucket through the watch loop.
//
// Each batch of updates is committed to the fold together with its cursor
// (the watcher's position: the highest revision consumed, including
// updates outside the scope), so the fold's cursor never names a revision
// whose data it lacks. A failed commit is retried with the batch kept in
// front of later updates; after 16 consecutive failures the mirror stops.
//
// When the fold's cursor has expired (the bucket no longer holds the
// updates after it), the mirror resyncs: it lists the bucket's live keys
// (headers only), deletes from the fold every in-scope key that is no
// longer live, then re-reads the scope's current state. Deletes first, so
// a key deleted and recreated during the gap converges.
//
// While running, the retention guard (kv::WatchOptions::detect_eviction)
// turns history evicted under the live watch into the same resync, for the
// every-key scope. A prefix scope cannot tell an evicted revision from one
// outside the scope: there, eviction under a running mirror shows up only
// on the next reconnect or restart, when the resume point has expired.
//
// A fold records its origin (bucket and prefixes) on first use; mirroring
// another bucket or scope into it is refused. The origin also records the
// stream's creation time: a bucket deleted and created again under the
// same name is another stream, and a fold of the old one resyncs instead
// of resuming (its cursor means nothing there).
//
// Reconcile (src/mirror/reconcile.h) catches what the server removes
// without a trace a watcher sees. It runs once caught up: at the start of a
// resume when the bucket can remove keys silently (max_age or per-message
// TTLs without limit markers; per-message TTLs on a bucket keeping older
// revisions), or when the fold was away longer than the limit markers'
// TTL; then every reconcile_every; and at the start when forced.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slip/fold.h"
#include "slip/kv.h"
#include "slip/watch.h"

namespace slip::mirror {

// Counters of a running mirror, updated after every commit; safe to read
// from another thread (the metrics endpoint reads them).
struct Stats {
  std::atomic<std::uint64_t> cursor{0};   // the fold's committed cursor
  std::atomic<std::uint64_t> pending{0};  // in-scope updates the server holds past it
  std::atomic<std::uint64_t> applied{0};  // updates applied since the start
  std::atomic<std::uint64_t> resyncs{0};
  std::atomic<std::uint64_t> reconciles{0};
  std::atomic<std::uint64_t> reconcile_deleted{0};    // keys deleted by reconciles, all told
  std::atomic<std::uint64_t> reconcile_refetched{0};  // keys fetched again by reconciles
  std::atomic<std::uint64_t> reconcile_failures{0};   // failed reconciles (each retried)
  std::atomic<std::int64_t> last_reconcile_ns{0};     // wall clock; 0 before the first
  std::atomic<std::uint64_t> store_failures{0};
  std::atomic<std::uint64_t> keys{0};           // live keys in the fold
  std::atomic<std::int64_t> last_commit_ns{0};  // wall clock; 0 before the first commit
  std::atomic<bool> caught_up{false};           // the initial catch-up is done
};

// A log event. NAME is stable (for --log-format json): "start", "resync",
// "cursor_expired", "bucket_recreated", "commit_failed", "caught_up",
// "reconcile"; FIELDS are its numbers.
struct Event {
  const char* level;  // "info", "warn"
  const char* name;
  std::string message;  // for people
  std::vector<std::pair<const char*, std::uint64_t>> fields;
};

struct Options {
  kv::Scope scope;
  bool once = false;  // catch up to the head as of the start, commit, return
  std::size_t batch_max = 1000;
  std::chrono::milliseconds batch_window{100};
  std::size_t max_failures = 16;
  std::chrono::milliseconds retry_backoff{100};
  std::function<bool()> stop_requested;
  std::function<void(const Event&)> log;
  Stats* stats = nullptr;           // kept current when set
  std::function<void()> on_commit;  // after each commit, on the mirror's thread
  // Called on the mirror's thread between commits (at least every 200 ms
  // while idle), when the fold is quiescent and its cursor is exactly its
  // content's: e.g. a periodic export. It must not modify the fold.
  std::function<void(fold::Store&)> between_commits;
  // Reconcile once caught up at the start, whatever the bucket (--reconcile).
  bool reconcile_at_start = false;
  // How often a running mirror reconciles. nullopt: every 10 minutes for a
  // bucket with max_age or per-message TTLs (markers or not: a TTL can
  // uncover an older revision without one) or limits that evict with
  // discard old (max_msgs, max_bytes), never for other buckets,
  // where only an operator's purge or message delete removes data
  // silently. Zero: never (the start's reconcile still runs).
  std::optional<std::chrono::milliseconds> reconcile_every;
};

inline constexpr std::chrono::minutes kDefaultReconcileEvery{10};

struct Report {
  std::uint64_t applied = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t cursor = 0;
  std::uint64_t store_failures = 0;
  std::uint64_t reconciles = 0;
};

// The Prometheus text exposition of STATS for BUCKET. STREAM_LAST is the
// bucket's newest revision when it could be read (it then also gives the
// lag); nullopt reports slip_mirror_stream_up 0.
std::string prometheus_text(const Stats& stats, const std::string& bucket,
                            std::optional<std::uint64_t> stream_last);

// Runs until caught up (once) or stopped; an interrupt is a clean stop.
Status run(kv::Bucket& bucket, fold::Store& store, const Options& options, Report* report);

}  // namespace slip::mirror
