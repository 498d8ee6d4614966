#include "slip/mirror.h"
#include "core/time_format.h"
#include "mirror/reconcile.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

namespace slip::mirror {

namespace {

void emit(const Options& options, Event event) {
  if (options.log) options.log(event);
}

// The fold seen by the watch loop: apply() stages a batch, commit() writes
// it and the cursor to the store in one atomic step, then publishes the
// new figures.
class FoldAdapter final : public watch::UpdateSink, public watch::CursorStore {
 public:
  FoldAdapter(fold::Store& store, const Options& options, Stats& stats)
      : store_(store), options_(options), stats_(stats) {}

  void set_watcher(const kv::Watcher* watcher) { watcher_ = watcher; }
  void set_after_commit(std::function<void()> f) { after_commit_ = std::move(f); }

  Status apply(const std::vector<kv::Entry>& batch) override {
    staged_.clear();
    for (const kv::Entry& e : batch) {
      staged_.push_back(
          {e.key, e.value, VersionToken::from_revision(e.revision), e.op != kv::Operation::kPut});
    }
    return Status::ok();
  }

  Result<std::optional<std::uint64_t>> load() override {
    auto c = store_.cursor();
    if (!c) return std::optional<std::uint64_t>();
    return c->revision();
  }

  Status commit(std::uint64_t cursor) override {
    SLIP_RETURN_IF_ERROR(store_.commit(staged_, VersionToken::from_revision(cursor)));
    stats_.applied += staged_.size();
    staged_.clear();
    stats_.cursor = cursor;
    stats_.keys = store_.size();
    stats_.last_commit_ns = now_unix_ns();
    if (after_commit_) after_commit_();
    if (watcher_ != nullptr) stats_.pending = watcher_->pending();
    note_caught_up();
    if (options_.on_commit) options_.on_commit();
    return Status::ok();
  }

  // The first time the watch is caught up: an event and the metric. Also
  // called while idle, since a watch of an empty scope commits nothing.
  void note_caught_up() {
    if (watcher_ == nullptr || !watcher_->caught_up() || stats_.caught_up.exchange(true)) return;
    const std::uint64_t cursor = stats_.cursor;
    emit(options_, {"info",
                    "caught_up",
                    "caught up: " + std::to_string(store_.size()) + " keys, cursor " +
                        std::to_string(cursor),
                    {{"keys", store_.size()}, {"cursor", cursor}}});
  }

 private:
  fold::Store& store_;
  const Options& options_;
  Stats& stats_;
  const kv::Watcher* watcher_ = nullptr;
  std::function<void()> after_commit_;
  std::vector<fold::Mutation> staged_;
};

// The fold's origin record as this run keeps it: the stream identity, the
// wall time at which the fold was last known caught up (written at most
// every 10 s, and at the end, so that the time recorded is never later
// than the real one), and whether a reconcile is owed.
class OriginKeeper {
 public:
  OriginKeeper(fold::Store& store, fold::Origin origin) : store_(store), origin_(std::move(origin)) {}

  const fold::Origin& origin() const { return origin_; }

  Status set_stream(std::int64_t created_ns) {
    if (origin_.stream_created_ns == created_ns) return Status::ok();
    origin_.stream_created_ns = created_ns;
    return write();
  }

  Status set_reconcile_owed(bool owed) {
    if (origin_.reconcile_owed == owed) return Status::ok();
    origin_.reconcile_owed = owed;
    return write();
  }

  // The fold holds everything the bucket had at about now. A failure to
  // record the time is not the commit's: an older time only makes the
  // next start reconcile sooner.
  void caught_up_now() {
    caught_up_ns_ = now_unix_ns();
    if (caught_up_ns_ - written_ns_ >= 10'000'000'000) flush();
  }

  // At a stop: the last time seen caught up, never the stop's own time,
  // since updates written after it were not applied.
  void flush() {
    if (caught_up_ns_ <= origin_.last_commit_ns) return;
    origin_.last_commit_ns = caught_up_ns_;
    (void)write();
  }

 private:
  Status write() {
    written_ns_ = now_unix_ns();
    return store_.set_origin(origin_);
  }

  fold::Store& store_;
  fold::Origin origin_;
  std::int64_t written_ns_ = 0;
  std::int64_t caught_up_ns_ = 0;
};

// Whether a resume must reconcile: the bucket removes keys without a
// trace, the fold was away long enough for limit markers written
// meanwhile to have expired (with a margin for the catch-up itself), or an
// earlier run owed one and stopped before it was done.
bool resume_needs_reconcile(const kv::BucketStatus& st, const fold::Origin& origin,
                            std::string* why) {
  if (st.removes_silently()) {
    *why = st.marker_ttl_ns == 0 ? "the bucket expires keys without limit markers"
                                 : "per-message TTLs can uncover older revisions";
    return true;
  }
  if (st.evicts_silently()) {
    *why = "the bucket's limits (max_msgs, max_bytes) evict keys without a trace";
    return true;
  }
  if (origin.reconcile_owed) {
    *why = "an earlier run stopped before its reconcile was done";
    return true;
  }
  if (st.marker_ttl_ns == 0) return false;
  if (origin.last_commit_ns == 0) {
    *why = "the fold's last caught-up time is not recorded";
    return true;
  }
  const std::int64_t away = now_unix_ns() - origin.last_commit_ns;
  if (away < 0) {
    *why = "the fold's last caught-up time is in the future (has the clock moved?)";
    return true;
  }
  const std::int64_t margin = std::max<std::int64_t>(1'000'000'000, st.marker_ttl_ns / 10);
  if (away + margin > st.marker_ttl_ns) {
    *why = "the fold was away longer than the limit markers live";
    return true;
  }
  return false;
}

// The fold's origin, recorded on first use; refuses another bucket or scope.
Result<fold::Origin> check_origin(kv::Bucket& bucket, fold::Store& store, const Options& options) {
  const fold::Origin wanted = fold::make_origin(bucket.name(), options.scope.prefixes);
  auto recorded = store.origin();
  if (!recorded) return recorded.status();
  if (!*recorded) {
    SLIP_RETURN_IF_ERROR(store.set_origin(wanted));
    return wanted;
  }
  if (fold::same_scope(**recorded, wanted)) return **recorded;
  return Status::invalid_argument("the fold is a fold of " + fold::describe(**recorded) +
                                  ", not of " + fold::describe(wanted) +
                                  ": choose another --to path (or remove the fold to rebuild it)");
}

// Deletes from the fold every key in scope that the bucket no longer holds.
// For a recreated bucket the cursor goes back to 0: the old stream's
// revisions mean nothing in the new one, and a new bucket with nothing in
// scope delivers no update whose commit would move it.
Status drop_keys_gone_from_bucket(kv::Bucket& bucket, fold::Store& store, const Options& options,
                                  bool recreated) {
  std::unordered_set<std::string> live;
  SLIP_RETURN_IF_ERROR(bucket.scan(options.scope, /*with_values=*/false, [&](const kv::Entry& e) {
    live.insert(e.key);
    return true;
  }));
  std::vector<fold::Mutation> deletes;
  auto collect = [&](std::string_view key, const fold::Value&) {
    if (!live.count(std::string(key)))
      deletes.push_back({std::string(key), "", VersionToken(), true});
    return true;
  };
  if (options.scope.prefixes.empty()) {
    SLIP_RETURN_IF_ERROR(store.scan("", collect));
  } else {
    for (const std::string& p : options.scope.prefixes)
      SLIP_RETURN_IF_ERROR(store.scan(p, collect));
  }
  emit(options, {"info",
                 "resync",
                 "resync: " + std::to_string(live.size()) + " live keys in the bucket, " +
                     std::to_string(deletes.size()) + " stale keys deleted from the fold",
                 {{"live_keys", live.size()}, {"stale_keys", deletes.size()}}});
  if (recreated) return store.commit(deletes, VersionToken::from_revision(0));
  if (deletes.empty()) return Status::ok();
  // The cursor does not move: the re-read that follows moves it.
  return store.commit(deletes, store.cursor().value_or(VersionToken::from_revision(0)));
}

}  // namespace

Status run(kv::Bucket& bucket, fold::Store& store, const Options& options, Report* report) {
  Report local;
  Report& r = report != nullptr ? *report : local;
  Stats local_stats;
  Stats& stats = options.stats != nullptr ? *options.stats : local_stats;
  stats.keys = store.size();
  if (auto c = store.cursor(); c && c->revision()) stats.cursor = r.cursor = *c->revision();
  auto recorded = check_origin(bucket, store, options);
  if (!recorded) return recorded.status();
  OriginKeeper origin(store, std::move(*recorded));
  auto bucket_st = bucket.status();
  if (!bucket_st) return bucket_st.status();
  // What the bucket is: read again after a resync, since the stream may be
  // another one by then (deleted and created again under the mirror).
  kv::BucketStatus st = std::move(*bucket_st);
  auto default_every = [&](const kv::BucketStatus& b) {
    return options.reconcile_every.value_or(
        b.max_age_ns > 0 || b.allow_msg_ttl || b.evicts_silently()
            ? std::chrono::milliseconds(kDefaultReconcileEvery)
            : std::chrono::milliseconds(0));
  };
  std::chrono::milliseconds every = default_every(st);

  const kv::Watcher* current = nullptr;  // the watch under way
  FoldAdapter adapter(store, options, stats);
  adapter.set_after_commit([&] {
    if (current != nullptr && current->caught_up()) origin.caught_up_now();
  });
  bool resync = false;
  // A stream identity to record once the state-sync after a resync is
  // complete: recorded earlier, a crash in between would resume the old
  // cursor against the new stream.
  bool identity_pending = false;
  // The bucket no longer holds the updates after the fold's cursor, or is
  // another stream than the fold's.
  auto start_resync = [&](const Status& why, const char* event) -> Status {
    auto now_st = bucket.status();
    if (!now_st) return now_st.status();
    st = std::move(*now_st);
    every = default_every(st);
    const std::int64_t known = origin.origin().stream_created_ns;
    const bool recreated = known != 0 && st.created_ns != 0 && known != st.created_ns;
    if (recreated && std::string_view(event) == "cursor_expired") {
      emit(options, {"warn",
                     "bucket_recreated",
                     "bucket " + bucket.name() + " was deleted and created again (the stream was "
                     "created " + format_rfc3339(st.created_ns) + ", the fold's at " +
                         format_rfc3339(known) + "); resyncing",
                     {{"cursor", stats.cursor}}});
    } else {
      emit(options, {"warn", event, why.message(), {{"cursor", stats.cursor}}});
    }
    SLIP_RETURN_IF_ERROR(drop_keys_gone_from_bucket(bucket, store, options, recreated));
    if (recreated) stats.cursor = r.cursor = 0;
    ++r.resyncs;
    ++stats.resyncs;
    stats.caught_up = false;
    resync = true;
    identity_pending = true;
    return Status::ok();
  };

  bool reconcile_pending = false;
  std::string reconcile_why;
  if (store.cursor()) {
    const std::int64_t known = origin.origin().stream_created_ns;
    if (known != 0 && st.created_ns != 0 && known != st.created_ns) {
      SLIP_RETURN_IF_ERROR(start_resync(
          Status::cursor_expired("bucket " + bucket.name() +
                                 " was deleted and created again since the fold's last run (the "
                                 "stream was created " + format_rfc3339(st.created_ns) +
                                 ", the fold's at " + format_rfc3339(known) +
                                 "): its revisions belong to the old bucket; resyncing"),
          "bucket_recreated"));
    } else {
      // A fold from before identities were recorded adopts this stream.
      if (known == 0) SLIP_RETURN_IF_ERROR(origin.set_stream(st.created_ns));
      reconcile_pending = resume_needs_reconcile(st, origin.origin(), &reconcile_why);
    }
  } else {
    SLIP_RETURN_IF_ERROR(origin.set_stream(st.created_ns));
  }
  if (options.reconcile_at_start && !reconcile_pending) {
    reconcile_pending = true;
    reconcile_why = "asked for with --reconcile";
  }
  // Owed until done: a stop or a crash before then must not let the next
  // start skip it because the fold looks recent.
  if (reconcile_pending) SLIP_RETURN_IF_ERROR(origin.set_reconcile_owed(true));
  auto next_reconcile = std::chrono::steady_clock::now() + every;
  // A failed reconcile under a running mirror is retried, not fatal: the
  // fold stays as good as the watch keeps it meanwhile.
  constexpr std::chrono::seconds kReconcileRetry{30};
  auto retry_at = std::chrono::steady_clock::time_point::min();

  auto run_reconcile = [&]() -> Status {
    auto counts = reconcile(bucket, store, options.scope, options.stop_requested);
    if (!counts) return counts.status().with_context("reconcile");
    reconcile_pending = false;
    SLIP_RETURN_IF_ERROR(origin.set_reconcile_owed(false));
    next_reconcile = std::chrono::steady_clock::now() + every;
    ++r.reconciles;
    ++stats.reconciles;
    stats.reconcile_deleted += counts->deleted;
    stats.reconcile_refetched += counts->refetched;
    stats.last_reconcile_ns = now_unix_ns();
    stats.keys = store.size();
    emit(options,
         {counts->deleted + counts->refetched > 0 ? "warn" : "info",
          "reconcile",
          "reconcile (" + (reconcile_why.empty() ? std::string("scheduled") : reconcile_why) +
              "): " + std::to_string(counts->scanned) + " live keys scanned, " +
              std::to_string(counts->deleted) + " deleted and " +
              std::to_string(counts->refetched) + " fetched again in the fold, " +
              std::to_string(counts->millis) + " ms",
          {{"scanned", counts->scanned},
           {"deleted", counts->deleted},
           {"refetched", counts->refetched},
           {"ms", counts->millis}}});
    reconcile_why.clear();
    return Status::ok();
  };
  // Once caught up, with the fold quiescent at its cursor.
  auto maybe_reconcile = [&]() -> Status {
    if (!stats.caught_up && (current == nullptr || !current->caught_up())) return Status::ok();
    // Initially caught up is not caught up now: a fold lagging behind has
    // not seen markers older than its last commit.
    if (current == nullptr || current->caught_up()) origin.caught_up_now();
    if (identity_pending) {
      // The state-sync re-read everything in scope: as good as a reconcile.
      SLIP_RETURN_IF_ERROR(origin.set_stream(st.created_ns));
      SLIP_RETURN_IF_ERROR(origin.set_reconcile_owed(false));
      identity_pending = false;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool due = every.count() > 0 && now >= next_reconcile;
    if (!(reconcile_pending && now >= retry_at) && !due) return Status::ok();
    Status s = run_reconcile();
    if (s || options.once || s.kind() == StatusKind::kInterrupted) return s;
    reconcile_pending = true;
    retry_at = now + kReconcileRetry;
    ++stats.reconcile_failures;
    emit(options, {"warn",
                   "reconcile_failed",
                   s.message() + "; retrying in " + std::to_string(kReconcileRetry.count()) + " s",
                   {{"retry_s", kReconcileRetry.count()}}});
    return Status::ok();
  };

  for (;;) {
    kv::WatchOptions wo;
    wo.scope = options.scope;
    wo.state_sync = true;
    wo.detect_eviction = options.scope.prefixes.empty();
    if (!resync) {
      if (auto c = store.cursor()) {
        auto rev = c->revision();
        if (!rev)
          return Status::invalid_argument("the fold's cursor is not a NATS revision (hex " +
                                          c->hex() + ")");
        wo.resume_after = *rev;
      }
    }
    auto watcher = bucket.watch(wo);
    if (!watcher && watcher.status().kind() == StatusKind::kCursorExpired && !resync) {
      SLIP_RETURN_IF_ERROR(start_resync(watcher.status(), "cursor_expired"));
      reconcile_pending = false;  // the state-sync re-reads everything
      continue;
    }
    if (!watcher) return watcher.status();
    resync = false;
    adapter.set_watcher(watcher->get());
    stats.pending = (*watcher)->pending();
    emit(options, {"info",
                   "start",
                   wo.resume_after ? "resuming after revision " + std::to_string(*wo.resume_after)
                                   : std::string("reading the current state"),
                   {{"cursor", stats.cursor}, {"pending", stats.pending}}});
    current = watcher->get();

    watch::LoopOptions lo;
    lo.batch_max = options.batch_max;
    lo.batch_window = options.batch_window;
    lo.until_caught_up = options.once;
    lo.stop_requested = options.stop_requested;
    lo.max_failures = options.max_failures;
    lo.retry_backoff = options.retry_backoff;
    lo.on_failure = [&](const Status& s, std::size_t attempt) {
      ++stats.store_failures;
      emit(options,
           {"warn",
            "commit_failed",
            "store commit failed (attempt " + std::to_string(attempt) + "): " + s.message(),
            {{"attempt", attempt}}});
    };
    lo.between_batches = [&] {
      adapter.note_caught_up();
      if (!options.once) SLIP_RETURN_IF_ERROR(maybe_reconcile());
      if (options.between_commits) options.between_commits(store);
      return Status::ok();
    };
    watch::LoopResult lr;
    Status s = watch::run_loop(**watcher, adapter, &adapter, lo, &lr);
    adapter.set_watcher(nullptr);
    current = nullptr;
    r.applied += lr.applied;
    r.store_failures += lr.failures;
    stats.store_failures = r.store_failures;
    if (s && options.once) {
      // Caught up as of the start: reconcile before the run's last word.
      stats.caught_up = true;
      s = maybe_reconcile();
    }
    if (auto c = store.cursor(); c && c->revision()) r.cursor = *c->revision();
    if (s.kind() == StatusKind::kInterrupted || (s && options.once) ||
        s.kind() == StatusKind::kCursorExpired) {
      origin.flush();
    }
    if (s.kind() == StatusKind::kInterrupted)
      return Status::ok();                         // committed up to here: a clean stop
    if (s.kind() == StatusKind::kCursorExpired) {  // evicted while away, or under the watch
      SLIP_RETURN_IF_ERROR(start_resync(s, "cursor_expired"));
      reconcile_pending = false;
      continue;
    }
    if (!s && lr.failures >= options.max_failures) {
      return s.with_context("mirror stopped after " + std::to_string(lr.failures) +
                            " failed commits in a row");
    }
    return s;
  }
}

}  // namespace slip::mirror
