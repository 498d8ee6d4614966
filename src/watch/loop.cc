#include <algorithm>
#include <thread>

#include "slip/watch.h"

namespace slip::watch {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

bool skipped(const LoopOptions& options, const kv::Update& u) {
  return options.ignore_deletes && u.entry.op != kv::Operation::kPut;
}

}  // namespace

Status run_loop(kv::Watcher& watcher, UpdateSink& sink, CursorStore* cursors,
                const LoopOptions& options, LoopResult* result) {
  LoopResult local;
  LoopResult& r = result != nullptr ? *result : local;
  std::uint64_t committed = 0;
  auto stop = [&] { return options.stop_requested && options.stop_requested(); };
  auto commit = [&](std::uint64_t position) -> Status {
    if (cursors == nullptr || position <= committed) return Status::ok();
    SLIP_RETURN_IF_ERROR(cursors->commit(position));
    committed = r.cursor = position;
    return Status::ok();
  };
  auto done = [&] {
    if (options.count && r.applied >= *options.count) return true;
    return options.until_caught_up && watcher.caught_up();
  };

  // A batch that failed stays here and is retried with what came after it.
  std::vector<kv::Entry> batch;
  std::size_t failures = 0;
  while (!done() || !batch.empty()) {
    if (stop()) {
      r.interrupted = true;
      return Status::interrupted("interrupted");
    }
    Status watch_failure;
    if (batch.empty()) {
      // Wait for the first update of a batch, polling for a stop request.
      auto first = watcher.next(options.poll);
      if (!first) {
        watch_failure = first.status();
      } else if (*first && !skipped(options, **first)) {
        batch.push_back(std::move((*first)->entry));
      }
    }
    if (!batch.empty() && watch_failure.is_ok()) {
      // Fill the batch until it is full, the window closes, or the limit
      // of --count is reached.
      const auto deadline = Clock::now() + options.batch_window;
      while (batch.size() < options.batch_max &&
             !(options.until_caught_up && watcher.caught_up()) && !stop()) {
        if (options.count && r.applied + batch.size() >= *options.count) break;
        auto more = watcher.next(until(deadline));
        if (!more) {
          watch_failure = more.status();
          break;
        }
        if (!*more) {
          if (Clock::now() >= deadline) break;
          continue;
        }
        if (!skipped(options, **more)) batch.push_back(std::move((*more)->entry));
      }
    }
    // With --count only a prefix of the batch may be applied; the watcher's
    // position is past it, so the cursor names the last applied revision.
    std::uint64_t position = watcher.position();
    bool last_batch = false;
    if (options.count && r.applied + batch.size() >= *options.count) {
      batch.resize(static_cast<std::size_t>(*options.count - r.applied));
      if (!batch.empty()) position = batch.back().revision;
      last_batch = true;
    }
    // Everything the watcher consumed is in the batch or out of scope, so
    // once the batch is applied the position is a safe cursor, even when
    // the batch is empty.
    Status applied = batch.empty() ? Status::ok() : sink.apply(batch);
    if (applied) applied = commit(position);
    if (!applied) {
      ++r.failures;
      if (++failures >= options.max_failures) return applied;  // the cursor stays put
      if (options.on_failure) options.on_failure(applied, failures);
      const auto backoff = std::min<std::chrono::milliseconds>(
          options.retry_backoff * (1LL << std::min<std::size_t>(failures - 1, 16)),
          options.retry_backoff_max);
      const auto resume = Clock::now() + backoff;
      while (Clock::now() < resume && !stop())
        std::this_thread::sleep_for(std::min(until(resume), options.poll));
      continue;
    }
    failures = 0;
    r.applied += batch.size();
    if (!batch.empty()) ++r.batches;
    batch.clear();
    SLIP_RETURN_IF_ERROR(watch_failure);
    if (options.between_batches) SLIP_RETURN_IF_ERROR(options.between_batches());
    if (last_batch) return Status::ok();
  }
  return Status::ok();
}

}  // namespace slip::watch
