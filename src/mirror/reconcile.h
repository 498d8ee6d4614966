// Reconcile: brings a fold level with what the server removed without a
// trace a watcher could see (max_age or per-message TTL expiry without
// limit markers, a TTL uncovering an older revision, an operator's stream
// purge or message delete, a limit marker that expired while the fold was
// away).
//
// One headers-only last-per-subject scan lists the key and revision of
// every live key in scope; it is compared with the fold, which must be
// quiescent at its cursor C (between commits). Afterwards every key whose
// live revision is at or below C equals the bucket:
//   - a key the fold has and the bucket no longer has is deleted;
//   - a key whose live revision differs from the fold's (an older revision
//     uncovered), or that the fold lacks, is fetched and applied.
// Keys whose live revision is above C are left alone: the watch delivers
// them. The fold's keys all have revisions at or below C, so nothing newer
// than the scan is ever undone. The changes commit with the cursor C
// unchanged: the cursor never moves backwards, and data and cursor still
// commit together.
//
// A scan that lists too little would delete keys the bucket still has: a
// sample of the keys about to be deleted is read back one by one first,
// and if one of them is live at a revision the fold has passed the scan is
// not trusted and nothing is deleted (check_failed). Changes commit in
// chunks, between which a stop request ends the reconcile (interrupted),
// each chunk leaving the fold consistent.
#pragma once

#include <cstdint>
#include <functional>

#include "slip/fold.h"
#include "slip/kv.h"

namespace slip::mirror {

struct ReconcileCounts {
  std::uint64_t scanned = 0;    // live keys in scope the scan listed
  std::uint64_t deleted = 0;    // keys deleted from the fold
  std::uint64_t refetched = 0;  // keys fetched again and applied
  std::uint64_t millis = 0;     // how long it took
};

Result<ReconcileCounts> reconcile(kv::Bucket& bucket, fold::Store& store, const kv::Scope& scope,
                                  const std::function<bool()>& stop_requested = {});

}  // namespace slip::mirror
