#include "slip/mirror.h"
#include "core/time_format.h"

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
    if (watcher_ != nullptr) {
      stats_.pending = watcher_->pending();
      if (watcher_->caught_up() && !stats_.caught_up.exchange(true)) {
        emit(options_, {"info",
                        "caught_up",
                        "caught up: " + std::to_string(store_.size()) + " keys, cursor " +
                            std::to_string(cursor),
                        {{"keys", store_.size()}, {"cursor", cursor}}});
      }
    }
    if (options_.on_commit) options_.on_commit();
    return Status::ok();
  }

 private:
  fold::Store& store_;
  const Options& options_;
  Stats& stats_;
  const kv::Watcher* watcher_ = nullptr;
  std::vector<fold::Mutation> staged_;
};

// Records the fold's origin on first use; refuses another bucket or scope.
Status check_origin(kv::Bucket& bucket, fold::Store& store, const Options& options) {
  const fold::Origin wanted = fold::make_origin(bucket.name(), options.scope.prefixes);
  auto recorded = store.origin();
  if (!recorded) return recorded.status();
  if (!*recorded) return store.set_origin(wanted);
  if (**recorded == wanted) return Status::ok();
  return Status::invalid_argument("the fold is a fold of " + fold::describe(**recorded) +
                                  ", not of " + fold::describe(wanted) +
                                  ": choose another --to path (or remove the fold to rebuild it)");
}

// Deletes from the fold every key in scope that the bucket no longer holds.
Status drop_keys_gone_from_bucket(kv::Bucket& bucket, fold::Store& store, const Options& options) {
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
  SLIP_RETURN_IF_ERROR(check_origin(bucket, store, options));
  FoldAdapter adapter(store, options, stats);
  bool resync = false;
  // The bucket no longer holds the updates after the fold's cursor.
  auto start_resync = [&](const Status& expired) -> Status {
    emit(options, {"warn", "cursor_expired", expired.message(), {{"cursor", stats.cursor}}});
    SLIP_RETURN_IF_ERROR(drop_keys_gone_from_bucket(bucket, store, options));
    ++r.resyncs;
    ++stats.resyncs;
    stats.caught_up = false;
    resync = true;
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
      SLIP_RETURN_IF_ERROR(start_resync(watcher.status()));
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
    if (options.between_commits) {
      lo.between_batches = [&] {
        options.between_commits(store);
        return Status::ok();
      };
    }
    watch::LoopResult lr;
    Status s = watch::run_loop(**watcher, adapter, &adapter, lo, &lr);
    adapter.set_watcher(nullptr);
    r.applied += lr.applied;
    r.store_failures += lr.failures;
    stats.store_failures = r.store_failures;
    if (auto c = store.cursor(); c && c->revision()) r.cursor = *c->revision();
    if (s.kind() == StatusKind::kInterrupted)
      return Status::ok();                         // committed up to here: a clean stop
    if (s.kind() == StatusKind::kCursorExpired) {  // evicted while away, or under the watch
      SLIP_RETURN_IF_ERROR(start_resync(s));
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
