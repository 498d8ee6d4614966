// The streaming merge against an in-memory model: every kind of
// difference, when values are (not) fetched, errors, and random pairs of
// states checked against a brute-force comparison.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <vector>

#include "slip/diff.h"

namespace diff = slip::diff;
using slip::Result;
using slip::Status;
using slip::VersionToken;

namespace {

struct Entry {
  std::string value;
  VersionToken version;
};
using Model = std::map<std::string, Entry>;

Entry at(std::uint64_t revision, std::string value) {
  return {std::move(value), VersionToken::from_revision(revision)};
}

// A sorted in-memory source that counts the values fetched from it.
class ModelSource final : public diff::Source {
 public:
  explicit ModelSource(const Model& model) : model_(model) {}

  Result<bool> next() override {
    if (fail_after_ == 0) return Status::io_error("read failed");
    if (fail_after_ > 0) --fail_after_;
    it_ = started_ ? std::next(it_) : model_.begin();
    started_ = true;
    return it_ != model_.end();
  }
  std::string_view key() const override { return it_->first; }
  const VersionToken& version() const override { return it_->second.version; }
  std::uint64_t value_size() const override { return it_->second.value.size(); }
  Result<std::string_view> value() override {
    ++fetched;
    return std::string_view(it_->second.value);
  }
  std::optional<VersionToken> cursor() const override { return std::nullopt; }

  int fetched = 0;
  int fail_after_ = -1;  // next() fails once this many calls have succeeded

 private:
  const Model& model_;
  Model::const_iterator it_;
  bool started_ = false;
};

struct Seen {
  diff::Change change;
  std::string key;
  std::optional<std::string> value_a, value_b;
  bool operator==(const Seen&) const = default;
};

struct Run {
  diff::Stats stats;
  std::vector<Seen> seen;
  int fetched_a = 0, fetched_b = 0;
};

Run run(const Model& a, const Model& b, diff::Options options = {}) {
  ModelSource sa(a), sb(b);
  Run r;
  auto stats = diff::compare(sa, sb, options, [&](const diff::Difference& d) {
    Seen s{d.change, std::string(d.key), {}, {}};
    CHECK(d.a.has_value() == (d.change != diff::Change::kAdded));
    CHECK(d.b.has_value() == (d.change != diff::Change::kRemoved));
    if (d.a && d.a->value) s.value_a = std::string(*d.a->value);
    if (d.b && d.b->value) s.value_b = std::string(*d.b->value);
    if (d.a) CHECK(d.a->version == a.at(s.key).version);
    if (d.b) CHECK(d.b->version == b.at(s.key).version);
    r.seen.push_back(s);
    return Status::ok();
  });
  REQUIRE_MESSAGE(stats.is_ok(), stats.status().to_string());
  r.stats = *stats;
  r.fetched_a = sa.fetched;
  r.fetched_b = sb.fetched;
  return r;
}

using C = diff::Change;

}  // namespace

TEST_CASE("diff merge: identical, empty and disjoint sides") {
  const Model a{{"a", at(1, "x")}, {"b", at(2, "y")}, {"c", at(3, "z")}};
  Run same = run(a, a);
  CHECK(same.seen.empty());
  CHECK(same.stats.unchanged == 3);
  CHECK(same.stats.keys_a == 3);
  CHECK(same.stats.keys_b == 3);
  CHECK(same.stats.differences() == 0);
  // Equal revisions: nothing fetched.
  CHECK(same.fetched_a + same.fetched_b == 0);

  Run empty = run({}, {});
  CHECK(empty.seen.empty());
  CHECK(empty.stats.keys_a == 0);

  const Model b{{"0", at(9, "q")}, {"bb", at(8, "r")}, {"d", at(7, "s")}};
  Run disjoint = run(a, b);
  const std::vector<Seen> expected{{C::kAdded, "0"},  {C::kRemoved, "a"}, {C::kRemoved, "b"},
                                   {C::kAdded, "bb"}, {C::kRemoved, "c"}, {C::kAdded, "d"}};
  CHECK(disjoint.seen == expected);
  CHECK(disjoint.stats.added == 3);
  CHECK(disjoint.stats.removed == 3);
  CHECK(disjoint.stats.unchanged == 0);
  CHECK(disjoint.fetched_a + disjoint.fetched_b == 0);

  Run only_a = run(a, {});
  CHECK(only_a.stats.removed == 3);
  CHECK(only_a.stats.keys_b == 0);
}

TEST_CASE("diff merge: changed values, revision-only changes and --ignore-revisions") {
  const Model a{{"k1", at(1, "one")}, {"k2", at(2, "two")}, {"k3", at(3, "three")}};
  Model b = a;
  b["k1"] = at(10, "ONE");    // changed, same size
  b["k2"] = at(20, "two");    // same value, new revision
  b["k3"] = at(3, "threee");  // same revision, other size: changed

  Run def = run(a, b);
  const std::vector<Seen> expected{{C::kChanged, "k1"}, {C::kRevision, "k2"}, {C::kChanged, "k3"}};
  CHECK(def.seen == expected);
  CHECK(def.stats.changed == 2);
  CHECK(def.stats.revision == 1);
  // k1 and k2 needed their values; k3 was told apart by size.
  CHECK(def.fetched_a == 2);
  CHECK(def.fetched_b == 2);

  Run ign = run(a, b, {.ignore_revisions = true});
  const std::vector<Seen> expected_ign{{C::kChanged, "k1"}, {C::kChanged, "k3"}};
  CHECK(ign.seen == expected_ign);
  CHECK(ign.stats.unchanged == 1);
  CHECK(ign.stats.revision == 0);

  // Same revision, same size, other bytes: trusted by default, caught when
  // values are compared.
  const Model c{{"k", at(5, "aaa")}};
  const Model d{{"k", at(5, "bbb")}};
  CHECK(run(c, d).seen.empty());
  CHECK(run(c, d, {.ignore_revisions = true}).seen == std::vector<Seen>{{C::kChanged, "k"}});
}

TEST_CASE("diff merge: a zero-width version proves nothing, so values are compared") {
  const Model a{{"k", Entry{"aaa", VersionToken()}}, {"same", Entry{"v", VersionToken()}}};
  const Model b{{"k", Entry{"bbb", VersionToken()}}, {"same", Entry{"v", VersionToken()}}};
  Run r = run(a, b);
  CHECK(r.seen == std::vector<Seen>{{C::kChanged, "k"}});
  CHECK(r.stats.unchanged == 1);
}

TEST_CASE("diff merge: --values hands each difference its values, binary and empty included") {
  const std::string binary("\x00\xff\x01", 3);
  const Model a{{"gone", at(1, "old")}, {"k", at(2, binary)}, {"same", at(3, "")}};
  const Model b{{"k", at(4, "")}, {"new", at(5, "fresh")}, {"same", at(3, "")}};
  Run r = run(a, b, {.values = true});
  const std::vector<Seen> expected{{C::kRemoved, "gone", "old", std::nullopt},
                                   {C::kChanged, "k", binary, ""},
                                   {C::kAdded, "new", std::nullopt, "fresh"}};
  CHECK(r.seen == expected);
}

TEST_CASE("diff merge: an error from a source or from the callback stops the walk") {
  const Model a{{"a", at(1, "x")}, {"b", at(2, "y")}, {"c", at(3, "z")}};
  const Model b{{"a", at(1, "x")}};
  ModelSource sa(a), sb(b);
  sa.fail_after_ = 2;
  int calls = 0;
  auto r = diff::compare(sa, sb, {}, [&](const diff::Difference&) {
    ++calls;
    return Status::ok();
  });
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().kind() == slip::StatusKind::kIOError);
  CHECK(calls == 1);  // "b" was reported before the failing read

  ModelSource sa2(a), sb2(b);
  auto stopped =
      diff::compare(sa2, sb2, {}, [&](const diff::Difference&) { return Status::pipe_closed(); });
  REQUIRE_FALSE(stopped.is_ok());
  CHECK(stopped.status().kind() == slip::StatusKind::kPipeClosed);
}

TEST_CASE("diff merge: random pairs of states match a brute-force comparison") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    Model a, b;
    const int keys = static_cast<int>(rng() % 40);
    for (int i = 0; i < keys; ++i) {
      std::string key(1 + rng() % 3, 'a');
      for (char& c : key) c = static_cast<char>("ab\x00\xff"[rng() % 4]);
      const std::uint64_t rev = 1 + rng() % 3;
      const std::string value(rng() % 3, 'v');
      switch (rng() % 5) {
        case 0: a[key] = at(rev, value); break;
        case 1: b[key] = at(rev, value); break;
        case 2: a[key] = b[key] = at(rev, value); break;
        case 3:
          a[key] = at(rev, value);
          b[key] = at(rev + 1, value);
          break;
        default: a[key] = at(rev, value); b[key] = at(1 + rng() % 3, std::string(rng() % 3, 'w'));
      }
    }
    for (bool ignore : {false, true}) {
      std::vector<Seen> expected;
      diff::Stats want;
      want.keys_a = a.size();
      want.keys_b = b.size();
      std::map<std::string, int> keys_union;
      for (const auto& [k, v] : a) keys_union[k] |= 1;
      for (const auto& [k, v] : b) keys_union[k] |= 2;
      for (const auto& [k, sides] : keys_union) {
        if (sides == 1) {
          expected.push_back({C::kRemoved, k}), ++want.removed;
        } else if (sides == 2) {
          expected.push_back({C::kAdded, k}), ++want.added;
        } else {
          const Entry &x = a.at(k), &y = b.at(k);
          const bool same_rev = x.version == y.version;
          if (x.value.size() != y.value.size() || ((ignore || !same_rev) && x.value != y.value)) {
            expected.push_back({C::kChanged, k}), ++want.changed;
          } else if (!ignore && !same_rev) {
            expected.push_back({C::kRevision, k}), ++want.revision;
          } else {
            ++want.unchanged;
          }
        }
      }
      Run r = run(a, b, {.ignore_revisions = ignore});
      CAPTURE(round);
      CAPTURE(ignore);
      CHECK(r.seen == expected);
      CHECK(r.stats.added == want.added);
      CHECK(r.stats.removed == want.removed);
      CHECK(r.stats.changed == want.changed);
      CHECK(r.stats.revision == want.revision);
      CHECK(r.stats.unchanged == want.unchanged);
      CHECK(r.stats.keys_a == want.keys_a);
      CHECK(r.stats.keys_b == want.keys_b);
    }
  }
}
