#include "mirror/reconcile.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace slip::mirror {

Result<ReconcileCounts> reconcile(kv::Bucket& bucket, fold::Store& store, const kv::Scope& scope) {
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

  std::vector<fold::Mutation> changes;
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
        changes.push_back({std::string(key), "", VersionToken(), true});
        ++counts.deleted;
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
  for (const std::string& key : refetch) {
    auto e = bucket.entry(key);
    if (!e && e.status().kind() == StatusKind::kNotFound) {
      changes.push_back({key, "", VersionToken(), true});  // gone since the scan
    } else if (!e) {
      return e.status();
    } else if (e->op == kv::Operation::kPut) {
      changes.push_back({key, std::move(e->value), VersionToken::from_revision(e->revision), false});
    } else {
      changes.push_back({key, "", VersionToken(), true});
    }
    ++counts.refetched;
  }
  if (!changes.empty()) {
    SLIP_RETURN_IF_ERROR(
        store.commit(changes, token.value_or(VersionToken::from_revision(cursor))));
  }
  counts.millis = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count());
  return counts;
}

}  // namespace slip::mirror
