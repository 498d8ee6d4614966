// The streaming merge of two sorted sources. Memory: whatever the sources
// hold, nothing here (two cursors and the values of one key at a time).
#include "slip/diff.h"

namespace slip::diff {

const char* change_name(Change change) {
  switch (change) {
    case Change::kAdded: return "added";
    case Change::kRemoved: return "removed";
    case Change::kChanged: return "changed";
    case Change::kRevision: return "revision";
  }
  return "changed";
}

namespace {

// The side of a difference; fetches the value only when asked to.
Result<Side> side_of(Source& source, bool with_value) {
  Side side{source.version(), std::nullopt};
  if (with_value) {
    auto v = source.value();
    if (!v) return v.status();
    side.value = *v;
  }
  return side;
}

// Compares the current entries of A and B, which have the same key.
// Returns nullopt when they are equal.
Result<std::optional<Change>> compare_entries(Source& a, Source& b, const Options& options) {
  const bool same_version = a.version() == b.version();
  if (a.value_size() != b.value_size()) return std::optional<Change>(Change::kChanged);
  // A zero-width version means "unknown": it proves nothing.
  if (!options.ignore_revisions && same_version && !a.version().empty())
    return std::optional<Change>();
  auto va = a.value();
  if (!va) return va.status();
  auto vb = b.value();
  if (!vb) return vb.status();
  if (*va != *vb) return std::optional<Change>(Change::kChanged);
  if (options.ignore_revisions || same_version) return std::optional<Change>();
  return std::optional<Change>(Change::kRevision);
}

}  // namespace

Result<Stats> compare(Source& a, Source& b, const Options& options,
                      const std::function<Status(const Difference&)>& on_difference) {
  Stats stats;
  auto more_a = a.next();
  if (!more_a) return more_a.status();
  auto more_b = b.next();
  if (!more_b) return more_b.status();
  bool has_a = *more_a;
  bool has_b = *more_b;
  while (has_a || has_b) {
    const int order = !has_a ? 1 : !has_b ? -1 : a.key().compare(b.key());
    Difference d;
    bool report = true;
    if (order < 0) {
      d.change = Change::kRemoved;
      d.key = a.key();
      auto side = side_of(a, options.values);
      if (!side) return side.status();
      d.a = *side;
      ++stats.removed;
    } else if (order > 0) {
      d.change = Change::kAdded;
      d.key = b.key();
      auto side = side_of(b, options.values);
      if (!side) return side.status();
      d.b = *side;
      ++stats.added;
    } else {
      auto change = compare_entries(a, b, options);
      if (!change) return change.status();
      if (!*change) {
        report = false;
        ++stats.unchanged;
      } else {
        d.change = **change;
        d.key = a.key();
        auto side_a = side_of(a, options.values);
        if (!side_a) return side_a.status();
        auto side_b = side_of(b, options.values);
        if (!side_b) return side_b.status();
        d.a = *side_a;
        d.b = *side_b;
        ++(d.change == Change::kChanged ? stats.changed : stats.revision);
      }
    }
    if (report) SLIP_RETURN_IF_ERROR(on_difference(d));
    if (order <= 0) {
      ++stats.keys_a;
      more_a = a.next();
      if (!more_a) return more_a.status();
      has_a = *more_a;
    }
    if (order >= 0) {
      ++stats.keys_b;
      more_b = b.next();
      if (!more_b) return more_b.status();
      has_b = *more_b;
    }
  }
  return stats;
}

}  // namespace slip::diff
