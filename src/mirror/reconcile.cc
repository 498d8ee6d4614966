#include "mirror/reconcile.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace slip::mirror {

namespace {

// Changes per commit: bounds the memory of a reconcile that fetches much
// again, and how long a stop request waits.
constexpr std::size_t kChunk = 4096;

// Reads back a few of the keys the scan did not list (first, middle,
// last): any of them live at a revision at or below the cursor means the
// scan missed keys that existed when it started.
Status check_scan_missed_nothing(kv::Bucket& bucket, const std::vector<std::string>& gone,
                                 std::uint64_t cursor) {
  if (gone.empty()) return Status::ok();
  const std::size_t last = gone.size() - 1;
  std::vector<std::size_t> sample{0};
  if (last / 2 != 0) sample.push_back(last / 2);
  if (last != last / 2 && last != 0) sample.push_back(last);
  for (std::size_t i : sample) {
    auto e = bucket.entry(gone[i]);
    if (!e && e.status().kind() == StatusKind::kNotFound) continue;
    if (!e) return e.status();
    if (e->op == kv::Operation::kPut && e->revision <= cursor) {
      return Status::check_failed(
          "the scan of bucket " + bucket.name() + " did not list key '" + gone[i] +
          "', which is live at revision " + std::to_string(e->revision) + "; " +
          std::to_string(gone.size()) +
          " keys would have been deleted from the fold, none were: check the "
          "bucket's stream (a mirror of a mirror, a subject transform) and the "
          "account's permissions");
    }
  }
  return Status::ok();
}

}  // namespace

Result<ReconcileCounts> reconcile(kv::Bucket& bucket, fold::Store& store, const kv::Scope& scope,
                                  const std::function<bool()>& stop_requested) {
  const auto start = std::chrono::steady_clock::now();
  ReconcileCounts counts;
  const std::optional<VersionToken> token = store.cursor();
  const std::uint64_t cursor = token && token->revision() ? *token->revision() : 0;

  // The scan's keys in one buffer, then sorted: a merge with the fold's
  // ascending walk needs no hash table and no allocation per key, which at
  // a million keys cost more than the scan itself.
  struct Live {
    std::size_t offset;
    std::uint32_t size;
    std::uint64_t revision;
  };
  std::string keys;
  std::vector<Live> live;
  live.reserve(store.size() + store.size() / 8 + 16);
  SLIP_RETURN_IF_ERROR(bucket.scan(scope, /*with_values=*/false, [&](const kv::Entry& e) {
    live.push_back({keys.size(), static_cast<std::uint32_t>(e.key.size()), e.revision});
    keys += e.key;
    return true;
  }));
  auto key_of = [&](const Live& l) { return std::string_view(keys).substr(l.offset, l.size); };
  std::sort(live.begin(), live.end(),
            [&](const Live& a, const Live& b) { return key_of(a) < key_of(b); });
  // A subject delivered twice (the scan's consumer was recreated) keeps
  // its newest revision.
  std::vector<Live> unique;
  unique.reserve(live.size());
  for (const Live& l : live) {
    if (!unique.empty() && key_of(unique.back()) == key_of(l)) {
      unique.back().revision = std::max(unique.back().revision, l.revision);
    } else {
      unique.push_back(l);
    }
  }
  live.swap(unique);
  counts.scanned = live.size();

  std::vector<std::string> gone;  // in the fold, not in the scan
  std::vector<std::string> refetch;
  std::vector<bool> in_fold(live.size(), false);
  // The fold's keys in ascending order through an iterator (views, no copy
  // of each value), merged with the sorted scan.
  auto compare = [&](std::string_view prefix) -> Status {
    auto it = store.iterate(prefix);
    auto l = std::lower_bound(live.begin(), live.end(), prefix,
                              [&](const Live& a, std::string_view p) { return key_of(a) < p; });
    while (it->next()) {
      const std::string_view key = it->key();
      while (l != live.end() && key_of(*l) < key) ++l;
      if (l == live.end() || key_of(*l) != key) {
        gone.emplace_back(key);
        continue;
      }
      const std::uint64_t fold_revision = it->version().revision().value_or(0);
      if (l->revision <= cursor && l->revision != fold_revision) refetch.emplace_back(key);
      in_fold[static_cast<std::size_t>(l - live.begin())] = true;
    }
    return it->status();
  };
  if (scope.prefixes.empty()) {
    SLIP_RETURN_IF_ERROR(compare(""));
  } else {
    // "a." covers "a.b": walk each key once.
    for (const std::string& p : scope.prefixes) {
      bool covered = false;
      for (const std::string& q : scope.prefixes)
        covered |= &q != &p && q.size() < p.size() && p.compare(0, q.size(), q) == 0;
      if (!covered) SLIP_RETURN_IF_ERROR(compare(p));
    }
  }
  // Live at a revision the fold has already passed, yet missing from it:
  // e.g. a delete marker removed by the message-delete API uncovered the
  // revision before it.
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (live[i].revision <= cursor && !in_fold[i]) refetch.emplace_back(key_of(live[i]));
  }
  SLIP_RETURN_IF_ERROR(check_scan_missed_nothing(bucket, gone, cursor));

  const VersionToken at = token.value_or(VersionToken::from_revision(cursor));
  std::vector<fold::Mutation> changes;
  auto flush = [&](bool last) -> Status {
    if (!changes.empty()) SLIP_RETURN_IF_ERROR(store.commit(changes, at));
    changes.clear();
    if (!last && stop_requested && stop_requested())
      return Status::interrupted("reconcile interrupted");
    return Status::ok();
  };
  for (std::string& key : gone) {
    changes.push_back({std::move(key), "", VersionToken(), true});
    ++counts.deleted;
    if (changes.size() >= kChunk) SLIP_RETURN_IF_ERROR(flush(false));
  }
  for (const std::string& key : refetch) {
    auto e = bucket.entry(key);
    if (!e && e.status().kind() == StatusKind::kNotFound) {
      changes.push_back({key, "", VersionToken(), true});  // gone since the scan
    } else if (!e) {
      return e.status();
    } else if (e->revision > cursor) {
      continue;  // written since the scan: the watch delivers it
    } else if (e->op == kv::Operation::kPut) {
      changes.push_back({key, std::move(e->value), VersionToken::from_revision(e->revision), false});
    } else {
      changes.push_back({key, "", VersionToken(), true});
    }
    ++counts.refetched;
    if (changes.size() >= kChunk) SLIP_RETURN_IF_ERROR(flush(false));
  }
  SLIP_RETURN_IF_ERROR(flush(true));
  counts.millis = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count());
  return counts;
}

}  // namespace slip::mirror
