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
  NatsWatcher(std::shared_ptr<Connection> conn, std::string bucket, kv::WatchOptions options)
      : conn_(std::move(conn)),
        bucket_(std::move(bucket)),
        prefix_(subject_prefix(bucket_)),
        options_(std::move(options)),
        filter_(filter_subject(bucket_, options_.scope)) {}

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
    auto consumer = OrderedConsumer::start(*conn_, bucket_, spec);
    if (!consumer) return consumer.status();
    consumer_.emplace(std::move(*consumer));
    pending_ = consumer_->initial_pending();
    caught_up_ = spec.deliver == js_DeliverNew || pending_ == 0;
    if (spec.deliver == js_DeliverNew || (pending_ == 0 && !options_.resume_after)) {
      // Nothing to deliver yet: the position is the stream's head, so a
      // cursor persisted now does not re-read history later.
      auto st = bucket_status(*conn_, bucket_);
      if (!st) return st.status();
      position_ = std::max(position_, st->last_sequence);
    }
    return Status::ok();
  }

  Result<std::optional<kv::Update>> next(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::optional<kv::Update>();
      MsgPtr msg;
      MetaPtr meta;
      Status s =
          consumer_ ? consumer_->next(left, &msg, &meta) : Status::unavailable("no consumer");
      if (OrderedConsumer::is_timeout(s)) return std::optional<kv::Update>();
      if (!s) {
        // The consumer is gone or out of step: recreate it after the
        // position. Retry until the deadline (the server may be restarting).
        SLIP_RETURN_IF_ERROR(recover(deadline));
        continue;
      }
      const std::uint64_t seq = meta->Sequence.Stream;
      if (seq <= position_) continue;  // re-delivered after a recovery
      position_ = seq;
      pending_ = meta->NumPending;
      const bool became_caught_up = !caught_up_ && pending_ == 0;
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

  Status recover(std::chrono::steady_clock::time_point deadline) {
    consumer_.reset();
    Status last;
    auto backoff = std::chrono::milliseconds(50);
    while (std::chrono::steady_clock::now() < deadline) {
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

  std::shared_ptr<Connection> conn_;
  std::string bucket_;
  std::string prefix_;
  kv::WatchOptions options_;
  std::string filter_;
  std::optional<OrderedConsumer> consumer_;
  std::uint64_t position_ = 0;
  std::uint64_t pending_ = 0;
  bool caught_up_ = false;
};

}  // namespace

Result<std::unique_ptr<kv::Watcher>> make_watcher(std::shared_ptr<Connection> conn,
                                                  const std::string& bucket,
                                                  const kv::WatchOptions& options) {
  for (const std::string& p : options.scope.prefixes) SLIP_RETURN_IF_ERROR(kv::validate_prefix(p));
  auto watcher = std::make_unique<NatsWatcher>(std::move(conn), bucket, options);
  SLIP_RETURN_IF_ERROR(watcher->start());
  return std::unique_ptr<kv::Watcher>(std::move(watcher));
}

}  // namespace slip::nats
