// The watch loop against a scripted watcher: the order of apply and commit,
// and what happens when the sink fails. (The real watcher is exercised
// against nats-server in tests/cli/watch_cli_test.cc.)
#include <doctest/doctest.h>

#include <deque>
#include <set>

#include "slip/watch.h"

using slip::Result;
using slip::Status;
namespace kv = slip::kv;
namespace watch = slip::watch;

namespace {

// Hands out a fixed list of updates; the last one marks caught-up.
class ScriptedWatcher final : public kv::Watcher {
 public:
  explicit ScriptedWatcher(std::vector<kv::Entry> entries)
      : queue_(entries.begin(), entries.end()) {
    caught_up_ = queue_.empty();
  }
  Result<std::optional<kv::Update>> next(std::chrono::milliseconds) override {
    if (queue_.empty()) return std::optional<kv::Update>();
    kv::Update u{queue_.front(), queue_.size() == 1};
    queue_.pop_front();
    position_ = u.entry.revision;
    if (u.caught_up) caught_up_ = true;
    return std::optional<kv::Update>(u);
  }
  bool caught_up() const override { return caught_up_; }
  std::uint64_t position() const override { return position_; }
  std::uint64_t pending() const override { return queue_.size(); }

 private:
  std::deque<kv::Entry> queue_;
  std::uint64_t position_ = 0;
  bool caught_up_ = false;
};

// Records every event in one log, so the test can check their order.
struct Journal {
  std::vector<std::string> events;
};

class RecordingSink final : public watch::UpdateSink {
 public:
  RecordingSink(Journal& j, int fail_on_batch = -1) : journal_(j), fail_on_batch_(fail_on_batch) {}
  Status apply(const std::vector<kv::Entry>& batch) override {
    if (batches_++ == fail_on_batch_) return Status::check_failed("sink failed");
    for (const auto& e : batch) journal_.events.push_back("apply " + std::to_string(e.revision));
    return Status::ok();
  }

 private:
  Journal& journal_;
  int fail_on_batch_;
  int batches_ = 0;
};

class RecordingCursor final : public watch::CursorStore {
 public:
  explicit RecordingCursor(Journal& j) : journal_(j) {}
  Result<std::optional<std::uint64_t>> load() override { return value; }
  Status commit(std::uint64_t cursor) override {
    journal_.events.push_back("commit " + std::to_string(cursor));
    value = cursor;
    return Status::ok();
  }
  std::optional<std::uint64_t> value;

 private:
  Journal& journal_;
};

std::vector<kv::Entry> entries(std::initializer_list<std::uint64_t> revisions,
                               kv::Operation op = kv::Operation::kPut) {
  std::vector<kv::Entry> out;
  for (auto r : revisions) out.push_back({"k" + std::to_string(r), "v", r, 0, 0, op, 1});
  return out;
}

}  // namespace

TEST_CASE("watch loop: each batch is applied before its cursor is committed") {
  ScriptedWatcher w(entries({3, 5, 8, 9, 12}));
  Journal j;
  RecordingSink sink(j);
  RecordingCursor cursor(j);
  watch::LoopOptions o;
  o.batch_max = 2;
  o.until_caught_up = true;
  watch::LoopResult r;
  CHECK(watch::run_loop(w, sink, &cursor, o, &r).is_ok());
  CHECK(j.events == std::vector<std::string>{"apply 3", "apply 5", "commit 5", "apply 8", "apply 9",
                                             "commit 9", "apply 12", "commit 12"});
  CHECK(r.applied == 5);
  CHECK(r.cursor == 12);
}

TEST_CASE("watch loop: a failed apply leaves the cursor at the last applied batch") {
  ScriptedWatcher w(entries({1, 2, 3, 4, 5, 6}));
  Journal j;
  RecordingSink sink(j, /*fail_on_batch=*/1);
  RecordingCursor cursor(j);
  watch::LoopOptions o;
  o.batch_max = 2;
  o.until_caught_up = true;
  Status s = watch::run_loop(w, sink, &cursor, o, nullptr);
  CHECK(s.kind() == slip::StatusKind::kCheckFailed);
  CHECK(cursor.value == 2u);
  CHECK(j.events.back() == "commit 2");
}

TEST_CASE("watch loop: --count stops after N and names the last applied revision") {
  ScriptedWatcher w(entries({10, 11, 12, 13, 14}));
  Journal j;
  RecordingSink sink(j);
  RecordingCursor cursor(j);
  watch::LoopOptions o;
  o.batch_max = 10;
  o.count = 3;
  watch::LoopResult r;
  CHECK(watch::run_loop(w, sink, &cursor, o, &r).is_ok());
  CHECK(r.applied == 3);
  CHECK(cursor.value == 12u);
}

TEST_CASE("watch loop: ignored deletes still move the cursor") {
  ScriptedWatcher w(entries({4, 6}, kv::Operation::kDelete));
  Journal j;
  RecordingSink sink(j);
  RecordingCursor cursor(j);
  watch::LoopOptions o;
  o.ignore_deletes = true;
  o.until_caught_up = true;
  watch::LoopResult r;
  CHECK(watch::run_loop(w, sink, &cursor, o, &r).is_ok());
  CHECK(r.applied == 0);
  CHECK(cursor.value == 6u);
}

TEST_CASE("watch loop: a stop request ends the loop as interrupted") {
  ScriptedWatcher w(entries({1, 2, 3}));
  Journal j;
  RecordingSink sink(j);
  watch::LoopOptions o;
  int polls = 0;
  o.stop_requested = [&] { return ++polls > 1; };
  watch::LoopResult r;
  Status s = watch::run_loop(w, sink, nullptr, o, &r);
  CHECK(s.kind() == slip::StatusKind::kInterrupted);
  CHECK(r.interrupted);
  CHECK(r.applied >= 1);
}

namespace {

// Fails its first FAILURES commits, as a full disk would.
class FlakyCursor final : public watch::CursorStore {
 public:
  explicit FlakyCursor(int failures) : failures_left_(failures) {}
  Result<std::optional<std::uint64_t>> load() override { return value; }
  Status commit(std::uint64_t cursor) override {
    if (failures_left_-- > 0) return Status::io_error("no space left on device");
    value = cursor;
    return Status::ok();
  }
  std::optional<std::uint64_t> value;

 private:
  int failures_left_;
};

}  // namespace

TEST_CASE("watch loop: a failed commit re-queues the batch in front of later updates") {
  ScriptedWatcher w(entries({1, 2, 3, 4, 5, 6}));
  Journal j;
  RecordingSink sink(j);
  FlakyCursor cursor(3);
  watch::LoopOptions o;
  o.batch_max = 2;
  o.until_caught_up = true;
  o.max_failures = 16;
  o.retry_backoff = std::chrono::milliseconds(1);
  std::vector<std::size_t> attempts;
  o.on_failure = [&](const Status&, std::size_t attempt) { attempts.push_back(attempt); };
  watch::LoopResult r;
  CHECK(watch::run_loop(w, sink, &cursor, o, &r).is_ok());
  CHECK(attempts == std::vector<std::size_t>{1, 2, 3});
  CHECK(cursor.value == 6u);
  CHECK(r.failures == 3);
  // Every update reached the sink; none was dropped while commits failed.
  std::set<std::string> applied(j.events.begin(), j.events.end());
  for (int rev = 1; rev <= 6; ++rev) CHECK(applied.count("apply " + std::to_string(rev)) == 1);
}

TEST_CASE("watch loop: after max_failures in a row the loop stops without moving the cursor") {
  ScriptedWatcher w(entries({1, 2, 3}));
  Journal j;
  RecordingSink sink(j);
  FlakyCursor cursor(100);
  watch::LoopOptions o;
  o.until_caught_up = true;
  o.max_failures = 16;
  o.retry_backoff = std::chrono::milliseconds(1);
  o.retry_backoff_max = std::chrono::milliseconds(4);
  watch::LoopResult r;
  Status s = watch::run_loop(w, sink, &cursor, o, &r);
  CHECK(s.kind() == slip::StatusKind::kIOError);
  CHECK(r.failures == 16);
  CHECK_FALSE(cursor.value.has_value());
}
