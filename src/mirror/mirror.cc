#include "slip/mirror.h"

#include <unordered_set>

namespace slip::mirror {

namespace {

// The fold seen by the watch loop: apply() stages a batch, commit() writes
// it and the cursor to the store in one atomic step.
class FoldAdapter final : public watch::UpdateSink, public watch::CursorStore {
 public:
  explicit FoldAdapter(fold::Store& store) : store_(store) {}

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
    staged_.clear();
    return Status::ok();
  }

 private:
  fold::Store& store_;
  std::vector<fold::Mutation> staged_;
};

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
  if (options.log) {
    options.log("resync: " + std::to_string(live.size()) + " live keys in the bucket, " +
                std::to_string(deletes.size()) + " stale keys deleted from the fold");
  }
  if (deletes.empty()) return Status::ok();
  // The cursor does not move: the re-read that follows moves it.
  return store.commit(deletes, store.cursor().value_or(VersionToken::from_revision(0)));
}

}  // namespace

Status run(kv::Bucket& bucket, fold::Store& store, const Options& options, Report* report) {
  Report local;
  Report& r = report != nullptr ? *report : local;
  FoldAdapter adapter(store);
  bool resync = false;
  // The bucket no longer holds the updates after the fold's cursor.
  auto start_resync = [&](const Status& expired) -> Status {
    if (options.log) options.log(expired.message());
    SLIP_RETURN_IF_ERROR(drop_keys_gone_from_bucket(bucket, store, options));
    ++r.resyncs;
    resync = true;
    return Status::ok();
  };
  for (;;) {
    kv::WatchOptions wo;
    wo.scope = options.scope;
    wo.state_sync = true;
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

    watch::LoopOptions lo;
    lo.batch_max = options.batch_max;
    lo.batch_window = options.batch_window;
    lo.until_caught_up = options.once;
    lo.stop_requested = options.stop_requested;
    lo.max_failures = options.max_failures;
    lo.retry_backoff = options.retry_backoff;
    lo.on_failure = [&](const Status& s, std::size_t attempt) {
      if (options.log)
        options.log("store commit failed (attempt " + std::to_string(attempt) +
                    "): " + s.message());
    };
    watch::LoopResult lr;
    Status s = watch::run_loop(**watcher, adapter, &adapter, lo, &lr);
    r.applied += lr.applied;
    r.store_failures += lr.failures;
    if (auto c = store.cursor(); c && c->revision()) r.cursor = *c->revision();
    if (s.kind() == StatusKind::kInterrupted)
      return Status::ok();                         // committed up to here: a clean stop
    if (s.kind() == StatusKind::kCursorExpired) {  // evicted while we were away from the server
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
