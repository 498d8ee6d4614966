// kv::Watcher over ordered consumers.
//
// cnats 3.4's kvWatchOptions cannot start from a revision, so the watcher
// runs its own ordered consumer: DeliverLastPerSubject for a state-sync,
// DeliverByStartSequence for a resume, DeliverNew for updates only. The
// stream sequence of the last message handed out (or skipped as out of
// scope) is the position; after any disruption (missed heartbeats, a
// server restart, a reconnect to another node) the consumer is recreated
// at position + 1, and anything at or below the position is dropped as a
// duplicate. That is what makes the output gap-free and duplicate-free.
//
// Several prefixes share ONE consumer over the bucket (nats-server 2.9 has
// no multi-filter consumers) with the scope applied client-side, so one
// position covers every prefix and never skips an update of any of them.
#include <thread>

#include "nats/connection.h"
#include "nats/consumer.h"
#include "nats/nats_status.h"

namespace slip::nats {

namespace {

class NatsWatcher final : public kv::Watcher {
 public:
  NatsWatcher(std::shared_ptr<Connection> conn, std::string bucket, const std::string& subjects,
              kv::WatchOptions options)
      : conn_(std::move(conn)),
        bucket_(std::move(bucket)),
        prefix_(subject_prefix(subjects)),
        options_(std::move(options)),
        filter_(filter_subject(subjects, options_.scope)) {}

  Status start() {
    ConsumerSpec spec{filter_, js_DeliverLastPerSubject, 0, options_.headers_only};
    if (options_.resume_after) {
      position_ = *options_.resume_after;
      SLIP_RETURN_IF_ERROR(check_resume_window());
      spec.deliver = js_DeliverByStartSequence;
      spec.start_sequence = position_ + 1;
    } else if (!options_.state_sync) {
      spec.deliver = js_DeliverNew;
    }
    // The head before the consumer exists: when nothing in scope is
    // pending, anything the consumer delivers later lies above it, so the
    // position may start there.
    auto before = bucket_status(*conn_, bucket_);
    if (!before) return before.status();
    created_ns_ = before->created_ns;
    // A state-sync of the whole bucket has something to deliver whenever
    // the stream holds a message, so the server need not count it (see
    // ConsumerSpec::count_pending); the message count stands in for the
    // pending count until the first update brings the exact one.
    if (spec.deliver == js_DeliverLastPerSubject && filter_ == prefix_ + ">" &&
        before->values > 0) {
      spec.count_pending = false;
    }
    spec.stream_messages = before->values;
    auto consumer = OrderedConsumer::start(*conn_, bucket_, spec);
    if (!consumer) return consumer.status();
    consumer_.emplace(std::move(*consumer));
    pending_ = consumer_->initial_pending().value_or(before->values);
    if (spec.deliver == js_DeliverNew || (pending_ == 0 && !options_.resume_after)) {
      position_ = std::max(position_, before->last_sequence);
    }
    // The head once the consumer exists: everything in scope up to it will
    // be delivered, so reaching it is "caught up". (A head read earlier can
    // miss a key rewritten in between, whose only delivery is above it.
    // The pending count in message metadata is not used: with nats-server
    // 2.9 it can lag by one or two right after a consumer starts.)
    auto after = bucket_status(*conn_, bucket_);
    if (!after) return after.status();
    head_ = after->last_sequence;
    caught_up_ = spec.deliver == js_DeliverNew || pending_ == 0 || head_ <= position_;
    last_activity_ = std::chrono::steady_clock::now();
    reconnects_seen_ = reconnect_count();
    return Status::ok();
  }

  Result<std::optional<kv::Update>> next(std::chrono::milliseconds timeout) override {
    // One clock reading fewer per update: the first wait is TIMEOUT itself.
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    for (bool first = true;; first = false) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - (first ? start : std::chrono::steady_clock::now()));
      if (left.count() <= 0) return std::optional<kv::Update>();
      MsgPtr msg;
      MetaPtr meta;
      Status s =
          consumer_ ? consumer_->next(left, &msg, &meta) : Status::unavailable("no consumer");
      if (OrderedConsumer::is_timeout(s)) {
        check_idle_caught_up();
        SLIP_RETURN_IF_ERROR(check_same_bucket());
        check_stalled_after_reconnect();
        return std::optional<kv::Update>();
      }
      if (!s) {
        // The consumer is gone or out of step: recreate it after the
        // position. Retry until the deadline (the server may be restarting).
        SLIP_RETURN_IF_ERROR(recover(deadline));
        continue;
      }
      const std::uint64_t seq = meta->Sequence.Stream;
      if (seq <= position_) {
        // Re-delivered after a consumer reset, or a new bucket under the
        // same name: tell them apart before dropping anything.
        SLIP_RETURN_IF_ERROR(check_same_bucket());
        continue;
      }
      if (seq > position_ + 1 && guards_eviction()) {
        Status gap = check_gap(seq);
        if (gap.kind() == StatusKind::kCursorExpired) return gap;
        if (!gap) {
          // Unknown: give the message back (the consumer restarts after
          // the position) rather than step over the gap unchecked.
          consumer_.reset();
          continue;
        }
      }
      position_ = seq;
      pending_ = meta->NumPending;
      last_activity_ = std::chrono::steady_clock::now();
      const bool became_caught_up = !caught_up_ && position_ >= head_;
      if (became_caught_up) caught_up_ = true;
      kv::Update update;
      decode_entry(msg.get(), prefix_, &update.entry);
      if (!options_.scope.matches(update.entry.key)) {
        if (became_caught_up) return std::optional<kv::Update>();  // let the caller see caught_up()
        continue;
      }
      update.entry.revision = seq;
      update.entry.created_ns = meta->Timestamp;
      update.entry.delta = meta->NumPending;
      update.caught_up = became_caught_up;
      return std::optional<kv::Update>(std::move(update));
    }
  }

  bool caught_up() const override { return caught_up_; }
  std::uint64_t position() const override { return position_; }
  std::uint64_t pending() const override { return pending_; }

 private:
  // Every revision after the position is delivered: when resuming, and in
  // a state-sync once the position has reached the head read after the
  // consumer was created. Only for the every-key scope.
  bool guards_eviction() const {
    return options_.detect_eviction && filter_ == prefix_ + ">" &&
           (options_.resume_after.has_value() || position_ >= head_);
  }

  // Delivery jumped from position_ to SEQ. Retention evicts from the front,
  // so if any revision in between was evicted, the first sequence is now
  // above position_+1. (Superseded and purged revisions make gaps too; when
  // they also moved the first sequence past the position, this reports an
  // eviction: conservative, and a resync is then merely unnecessary.)
  // Any other failure: the bucket could not be asked.
  Status check_gap(std::uint64_t seq) {
    auto st = bucket_status(*conn_, bucket_);
    if (!st) return st.status();
    if (st->first_sequence > position_ + 1) {
      return Status::cursor_expired(
          "retention evicted revisions after " + std::to_string(position_) + " of bucket " +
          bucket_ + " before they were delivered (delivery jumped to " + std::to_string(seq) +
          ", the bucket now starts at " + std::to_string(st->first_sequence) +
          "); re-read the whole bucket (state-sync)");
    }
    return Status::ok();
  }

  // Resuming after CURSOR is only sound if the stream still holds every
  // message after it; otherwise the server would silently start at its
  // first sequence and the gap would go unnoticed.
  Status check_resume_window() {
    auto st = bucket_status(*conn_, bucket_);
    if (!st) return st.status();
    if (st->last_sequence > position_ && st->first_sequence > position_ + 1) {
      return Status::cursor_expired(
          "cursor " + std::to_string(position_) + " has expired: bucket " + bucket_ +
          " now starts at revision " + std::to_string(st->first_sequence) + ", so updates " +
          std::to_string(position_ + 1) + ".." + std::to_string(st->first_sequence - 1) +
          " are gone; re-read the whole bucket (state-sync)");
    }
    if (st->last_sequence < position_) {
      return Status::cursor_expired("cursor " + std::to_string(position_) + " is ahead of bucket " +
                                    bucket_ + " (last revision " +
                                    std::to_string(st->last_sequence) +
                                    "): the bucket was recreated or the cursor belongs elsewhere");
    }
    return Status::ok();
  }

  // A server-side filter never delivers the messages outside it, so the
  // position may stop short of the head. After a quiet spell, ask the
  // consumer itself whether anything is left.
  Status check_same_bucket() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_identity_check_ < std::chrono::seconds(1)) return Status::ok();
    last_identity_check_ = now;
    auto st = bucket_status(*conn_, bucket_);
    if (!st) return Status::ok();  // unreachable right now: the next check decides
    if (st->created_ns != created_ns_ || st->last_sequence < position_) {
      return Status::cursor_expired(
          "bucket " + bucket_ + " was deleted and created again while watching; revision " +
          std::to_string(position_) + " belongs to the old bucket: re-read it (state-sync)");
    }
    return Status::ok();
  }

  // After a reconnect (to another cluster node, say) cnats recreates its
  // ordered consumer; when that first attempt gets no answer it tries
  // again only after a long heartbeat timeout (seen: 20 s and more). If
  // the bucket has moved on and nothing came for a while, ask the consumer
  // itself; when it is gone, drop it so that next() rebuilds it after the
  // position. Only after a reconnect: the consumer-info request counts the
  // pending messages, which is costly for a filtered consumer.
  void check_stalled_after_reconnect() {
    if (!consumer_) return;
    const std::uint64_t reconnects = reconnect_count();
    if (reconnects == reconnects_seen_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_activity_ < std::chrono::seconds(2) ||
        now - last_stall_check_ < std::chrono::seconds(2))
      return;
    last_stall_check_ = now;
    auto st = bucket_status(*conn_, bucket_);
    if (!st) return;  // not reachable yet: try again later
    if (st->last_sequence <= position_) {
      reconnects_seen_ = reconnects;  // nothing to wait for: the consumer is not stalled
      return;
    }
    if (!consumer_->server_pending()) {
      consumer_.reset();  // gone: next() recovers after the position
      reconnects_seen_ = reconnects;
    }
  }

  std::uint64_t reconnect_count() const {
    natsStatistics* stats = nullptr;
    if (natsStatistics_Create(&stats) != NATS_OK) return reconnects_seen_;
    uint64_t reconnects = reconnects_seen_;
    if (natsConnection_GetStats(conn_->nc.get(), stats) == NATS_OK)
      natsStatistics_GetCounts(stats, nullptr, nullptr, nullptr, nullptr, &reconnects);
    natsStatistics_Destroy(stats);
    return reconnects;
  }

  void check_idle_caught_up() {
    if (caught_up_ || !consumer_) return;
    if (std::chrono::steady_clock::now() - last_activity_ < std::chrono::milliseconds(100)) return;
    last_activity_ = std::chrono::steady_clock::now();
    auto left = consumer_->server_pending();
    if (left && *left == 0) caught_up_ = true;
  }

  Status recover(std::chrono::steady_clock::time_point deadline) {
    consumer_.reset();
    Status last;
    auto backoff = std::chrono::milliseconds(50);
    while (std::chrono::steady_clock::now() < deadline) {
      if (natsConnection_Status(conn_->nc.get()) == NATS_CONN_STATUS_CLOSED) {
        return Status::unavailable(
            "connection to the server closed after the reconnect attempts ran out");
      }
      last = check_resume_window();
      if (last.kind() == StatusKind::kCursorExpired) return last;
      if (last) {
        ConsumerSpec spec{filter_, js_DeliverByStartSequence, position_ + 1, options_.headers_only};
        auto consumer = OrderedConsumer::start(*conn_, bucket_, spec);
        if (consumer) {
          consumer_.emplace(std::move(*consumer));
          return Status::ok();
        }
        last = consumer.status();
      }
      std::this_thread::sleep_for(backoff);  // the server is not back yet: poll with backoff
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
    // Not fatal: the next call tries again (a daemon keeps waiting).
    return Status::ok();
  }

  std::shared_ptr<Connection> conn_;  // declared first: outlives consumer_'s subscription
  std::string bucket_;
  std::string prefix_;
  kv::WatchOptions options_;
  std::string filter_;
  // reset() (recover, a gap, a stall) unsubscribes and waits for cnats'
  // reader thread before destroying the subscription (see Subscription).
  std::optional<OrderedConsumer> consumer_;
  std::uint64_t position_ = 0;
  std::uint64_t pending_ = 0;
  std::uint64_t head_ = 0;
  std::int64_t created_ns_ = 0;  // identity of the stream being watched
  std::chrono::steady_clock::time_point last_identity_check_;
  std::chrono::steady_clock::time_point last_stall_check_;
  std::uint64_t reconnects_seen_ = 0;  // reconnects before the current consumer
  bool caught_up_ = false;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace

Result<std::unique_ptr<kv::Watcher>> make_watcher(std::shared_ptr<Connection> conn,
                                                  const std::string& bucket,
                                                  const std::string& subjects,
                                                  const kv::WatchOptions& options) {
  for (const std::string& p : options.scope.prefixes) SLIP_RETURN_IF_ERROR(kv::validate_prefix(p));
  auto watcher = std::make_unique<NatsWatcher>(std::move(conn), bucket, subjects, options);
  SLIP_RETURN_IF_ERROR(watcher->start());
  return std::unique_ptr<kv::Watcher>(std::move(watcher));
}

}  // namespace slip::nats
