#include "mirror/reconcile.h"

#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace slip::mirror {

Result<ReconcileCounts> reconcile(kv::Bucket& bucket, fold::Store& store, const kv::Scope& scope) {
  const auto start = std::chrono::steady_clock::now();
  ReconcileCounts counts;
  const std::optional<VersionToken> token = store.cursor();
  const std::uint64_t cursor = token && token->revision() ? *token->revision() : 0;

  std::unordered_map<std::string, std::uint64_t> live;
  SLIP_RETURN_IF_ERROR(bucket.scan(scope, /*with_values=*/false, [&](const kv::Entry& e) {
    live[e.key] = e.revision;
    return true;
  }));
  counts.scanned = live.size();

  std::vector<fold::Mutation> changes;
  std::vector<std::string> refetch;
  std::unordered_set<std::string> in_fold;
  auto compare = [&](std::string_view key, const fold::Value& value) {
    std::string k(key);
    auto it = live.find(k);
    if (it == live.end()) {
      changes.push_back({std::move(k), "", VersionToken(), true});
      ++counts.deleted;
      return true;
    }
    const std::uint64_t fold_revision = value.version.revision().value_or(0);
    if (it->second <= cursor && it->second != fold_revision) refetch.push_back(k);
    in_fold.insert(std::move(k));
    return true;
  };
  if (scope.prefixes.empty()) {
    SLIP_RETURN_IF_ERROR(store.scan("", compare));
  } else {
    for (const std::string& p : scope.prefixes) SLIP_RETURN_IF_ERROR(store.scan(p, compare));
  }
  // Live at a revision the fold has already passed, yet missing from it:
  // e.g. a delete marker removed by the message-delete API uncovered the
  // revision before it.
  for (const auto& [key, revision] : live) {
    if (revision <= cursor && !in_fold.count(key)) refetch.push_back(key);
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
