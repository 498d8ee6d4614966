// The watch loop: updates from a kv::Watcher, applied in batches to a
// sink, with the cursor committed only after the sink has applied them.
//
// Cursor-after-apply is the only order this API allows: UpdateSink::apply()
// never sees the cursor, and the loop calls CursorStore::commit() only
// after apply() returned OK. A failed apply leaves the cursor where it
// was, so a restart re-delivers the batch instead of skipping it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "slip/kv.h"
#include "slip/status.h"

namespace slip::watch {

// Where applied updates go: printed and flushed, handed to a command, or
// written to a fold. apply() returns only once the batch is durable in the
// sink's own terms.
class UpdateSink {
 public:
  virtual ~UpdateSink() = default;
  virtual Status apply(const std::vector<kv::Entry>& batch) = 0;
};

// Where the cursor lives between runs.
class CursorStore {
 public:
  virtual ~CursorStore() = default;
  // The stored cursor, or nullopt when there is none yet.
  virtual Result<std::optional<std::uint64_t>> load() = 0;
  // Durably records that every update up to CURSOR has been applied.
  virtual Status commit(std::uint64_t cursor) = 0;
};

struct LoopOptions {
  std::size_t batch_max = 1000;                // updates per batch at most
  std::chrono::milliseconds batch_window{50};  // how long a batch may wait to fill
  std::optional<std::uint64_t> count;          // stop after this many updates applied
  bool until_caught_up = false;                // stop once the initial state is applied
  bool ignore_deletes = false;                 // DEL/PURGE are consumed, not applied
  std::function<bool()> stop_requested;        // polled; true finishes the batch and stops
  std::chrono::milliseconds poll{200};         // how often stop_requested is polled when idle
  // Consecutive failures of apply() or commit() tolerated: a failed batch
  // is kept and retried, with the updates that arrived meanwhile appended
  // (never dropped), after a backoff that doubles from retry_backoff up to
  // retry_backoff_max. 1: the first failure ends the loop.
  std::size_t max_failures = 1;
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{5000};
  std::function<void(const Status& failure, std::size_t attempt)> on_failure;  // e.g. a log line
  // Called between batches, after the last one was committed (and at least
  // every `poll` while idle): a point where the sink is quiescent, for
  // periodic work such as an export. A non-OK status ends the loop.
  std::function<Status()> between_batches;
};

struct LoopResult {
  std::uint64_t applied = 0;  // updates handed to the sink
  std::uint64_t batches = 0;
  std::uint64_t cursor = 0;    // the last cursor committed (0 if none)
  std::uint64_t failures = 0;  // failed apply/commit attempts, all told
  bool interrupted = false;    // stopped by stop_requested
};

// Runs until a stop condition, an error, or an interrupt. Errors from the
// watcher (e.g. kCursorExpired) and the sink are returned after the
// batches before them were applied and committed. CURSORS may be null.
Status run_loop(kv::Watcher& watcher, UpdateSink& sink, CursorStore* cursors,
                const LoopOptions& options, LoopResult* result);

}  // namespace slip::watch
