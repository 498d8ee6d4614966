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
// Known limit: only an expired *resume point* is detected. If retention
// evicts history while the mirror is running and connected, the gap shows
// up as a CursorExpired on the next reconnect or restart.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "slip/fold.h"
#include "slip/kv.h"
#include "slip/watch.h"

namespace slip::mirror {

struct Options {
  kv::Scope scope;
  bool once = false;  // catch up to the head as of the start, commit, return
  std::size_t batch_max = 1000;
  std::chrono::milliseconds batch_window{100};
  std::size_t max_failures = 16;
  std::chrono::milliseconds retry_backoff{100};
  std::function<bool()> stop_requested;
  std::function<void(const std::string&)> log;  // one line per event, for people
};

struct Report {
  std::uint64_t applied = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t cursor = 0;
  std::uint64_t store_failures = 0;
};

// Runs until caught up (once) or stopped; an interrupt is a clean stop.
Status run(kv::Bucket& bucket, fold::Store& store, const Options& options, Report* report);

}  // namespace slip::mirror
