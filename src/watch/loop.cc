#include "slip/watch.h"

namespace slip::watch {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
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

  std::vector<kv::Entry> batch;
  while (!done()) {
    if (stop()) {
      r.interrupted = true;
      return Status::interrupted("interrupted");
    }
    // Wait for the first update of a batch, polling for a stop request.
    batch.clear();
    Status failure;
    auto first = watcher.next(options.poll);
    if (!first) {
      failure = first.status();
    } else if (*first) {
      if (!(options.ignore_deletes && (*first)->entry.op != kv::Operation::kPut)) {
        batch.push_back(std::move((*first)->entry));
      }
      // Fill the batch until it is full, the window closes, or the limit
      // of --count is reached.
      const auto deadline = Clock::now() + options.batch_window;
      while (batch.size() < options.batch_max && !watcher.caught_up() && !stop()) {
        if (options.count && r.applied + batch.size() >= *options.count) break;
        auto more = watcher.next(until(deadline));
        if (!more) {
          failure = more.status();
          break;
        }
        if (!*more) {
          if (Clock::now() >= deadline) break;
          continue;
        }
        if (options.ignore_deletes && (*more)->entry.op != kv::Operation::kPut) continue;
        batch.push_back(std::move((*more)->entry));
      }
    }
    if (options.count && r.applied + batch.size() > *options.count) {
      // The watcher's position is past the batch now; only a prefix is
      // applied, so the cursor must name the last applied revision.
      batch.resize(static_cast<std::size_t>(*options.count - r.applied));
      SLIP_RETURN_IF_ERROR(sink.apply(batch));
      r.applied += batch.size();
      ++r.batches;
      return commit(batch.empty() ? committed : batch.back().revision);
    }
    if (!batch.empty()) {
      SLIP_RETURN_IF_ERROR(sink.apply(batch));  // the cursor stays put on failure
      r.applied += batch.size();
      ++r.batches;
    }
    // Everything the watcher consumed is applied (or out of scope): the
    // position is a safe cursor, even when the batch was empty.
    SLIP_RETURN_IF_ERROR(commit(watcher.position()));
    SLIP_RETURN_IF_ERROR(failure);
  }
  return Status::ok();
}

}  // namespace slip::watch
