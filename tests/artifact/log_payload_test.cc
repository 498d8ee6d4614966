// emit_log_payload against an oracle: the canonical encoding of the state
// the spec's replay rules give, for generated log folds of every shape (a
// compacted base with commits after it, no base, records after the last
// cursor, scopes), and damage, which must never produce a payload.
#include <doctest/doctest.h>

#include <random>

#include "artifact/log_payload.h"
#include "slip/snapshot_writer.h"
#include "support/files.h"
#include "support/snapshot_model.h"

using slip::StatusKind;
using slip::VersionToken;
using slip::snapshot::RecordType;
using slip::test::Op;
using slip::test::TempDir;
namespace artifact = slip::artifact;

namespace {

VersionToken rev(std::uint64_t r) { return VersionToken::from_revision(r); }

// The payload an exporter must write: the live keys under PREFIXES in
// order, then the last cursor.
std::string oracle(const std::vector<Op>& ops, const std::vector<std::string>& prefixes = {}) {
  slip::test::ModelState m = slip::test::model_of(ops);
  std::vector<Op> canonical;
  for (const auto& [key, value] : m.entries) {
    bool in = prefixes.empty();
    for (const std::string& p : prefixes) in = in || key.rfind(p, 0) == 0;
    if (in)
      canonical.push_back(
          {RecordType::kPut, key, value.first, *VersionToken::from_bytes(value.second)});
  }
  canonical.push_back({RecordType::kCursor, "", "", *VersionToken::from_bytes(*m.cursor)});
  return slip::test::encode_ops(canonical);
}

struct Emitted {
  slip::Status status;
  std::string bytes;
  artifact::LogPayload payload;
};

Emitted emit(const std::string& path, bool assume_canonical,
             const std::vector<std::string>& prefixes = {}) {
  Emitted e;
  auto r = artifact::emit_log_payload(
      path, prefixes,
      [&](const char* data, std::size_t n) {
        e.bytes.append(data, n);
        return slip::Status::ok();
      },
      {}, assume_canonical);
  if (r) e.payload = *r;
  e.status = r.status();
  return e;
}

// A log fold as a mirror leaves it: an optional compacted base (ascending
// PUTs and a cursor), then commits of PUTs and DELETEs each closed by a
// cursor, sometimes records after the last cursor.
std::vector<Op> generate(std::mt19937& rng, bool with_base, int commits) {
  auto key = [&]() {
    static const char* kPrefixes[] = {"a/", "b/", "c.", ""};
    return std::string(kPrefixes[rng() % 4]) + "k" + std::to_string(rng() % 60);
  };
  auto value = [&]() { return std::string(rng() % 40, static_cast<char>('a' + rng() % 26)); };
  std::uint64_t r = 1;
  std::vector<Op> ops;
  if (with_base) {
    std::map<std::string, std::string> base;
    for (int i = 0; i < 40; ++i) base[key()] = value();
    for (const auto& [k, v] : base) ops.push_back({RecordType::kPut, k, v, rev(r++)});
    ops.push_back({RecordType::kCursor, "", "", rev(r - 1)});
  }
  for (int c = 0; c < commits; ++c) {
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      if (rng() % 4 == 0)
        ops.push_back({RecordType::kDelete, key(), "", rev(r++)});
      else
        ops.push_back({RecordType::kPut, key(), value(), rev(r++)});
    }
    ops.push_back({RecordType::kCursor, "", "", rev(r - 1)});
  }
  if (rng() % 4 == 0) ops.push_back({RecordType::kPut, key(), value(), rev(r++)});
  return ops;
}

bool has_cursor(const std::vector<Op>& ops) {
  for (const Op& op : ops)
    if (op.type == RecordType::kCursor) return true;
  return false;
}

}  // namespace

TEST_CASE("log payload: generated folds give exactly the canonical form of their state") {
  TempDir tmp;
  const std::string path = tmp.file("fold.snap");
  std::mt19937 rng(20261126);
  int canonical_files = 0, merged = 0;
  for (int round = 0; round < 400; ++round) {
    const bool with_base = round % 3 != 0;
    const int commits = static_cast<int>(rng() % 5);
    std::vector<Op> ops = generate(rng, with_base, commits);
    if (!has_cursor(ops)) continue;
    const std::string file = slip::test::encode_ops(ops);
    slip::test::write_file(path, file);
    const std::string expected = oracle(ops);
    CAPTURE(round);

    Emitted full = emit(path, false);
    REQUIRE_MESSAGE(full.status.is_ok(), full.status.to_string());
    CHECK(full.bytes == expected);
    CHECK(full.payload.cursor == *VersionToken::from_bytes(*slip::test::model_of(ops).cursor));
    CHECK(full.payload.entries == slip::test::model_of(ops).entries.size());

    // Passed through only when the file is its own canonical form;
    // otherwise refused, never a wrong payload.
    Emitted assumed = emit(path, true);
    if (file == expected) {
      ++canonical_files;
      CHECK(assumed.status.is_ok());
      CHECK(assumed.bytes == expected);
      CHECK_FALSE(artifact::has_recent_commits(path));
    } else {
      ++merged;
      CHECK(assumed.status.kind() == StatusKind::kCheckFailed);
    }

    const std::vector<std::string> scope = {"a/", "c."};
    Emitted scoped = emit(path, false, scope);
    REQUIRE(scoped.status.is_ok());
    CHECK(scoped.bytes == oracle(ops, scope));
    Emitted scoped_assumed = emit(path, true, scope);
    if (file == expected)
      CHECK(scoped_assumed.bytes == oracle(ops, scope));
    else
      CHECK(scoped_assumed.status.kind() == StatusKind::kCheckFailed);
  }
  // Both kinds were exercised.
  CHECK(canonical_files > 20);
  CHECK(merged > 200);
}

TEST_CASE("log payload: commits after the base are seen from the end of the file") {
  TempDir tmp;
  const std::string path = tmp.file("fold.snap");
  std::vector<Op> ops;
  for (int i = 0; i < 10; ++i)
    ops.push_back({RecordType::kPut, "k" + std::to_string(i), "v", rev(i + 1)});
  ops.push_back({RecordType::kCursor, "", "", rev(10)});
  slip::test::write_file(path, slip::test::encode_ops(ops));
  CHECK_FALSE(artifact::has_recent_commits(path));

  // One commit after the base: two cursors, the earlier within reach.
  ops.push_back({RecordType::kPut, "k3", "w", rev(11)});
  ops.push_back({RecordType::kCursor, "", "", rev(11)});
  slip::test::write_file(path, slip::test::encode_ops(ops));
  CHECK(artifact::has_recent_commits(path));

  // A value holding the bytes of a valid CURSOR record is not one.
  std::string fake;
  slip::snapshot::encode_cursor(&fake, rev(7));
  std::vector<Op> tricky = {{RecordType::kPut, "a", fake, rev(1)},
                            {RecordType::kPut, "b", fake + fake, rev(2)},
                            {RecordType::kCursor, "", "", rev(2)}};
  slip::test::write_file(path, slip::test::encode_ops(tricky));
  CHECK_FALSE(artifact::has_recent_commits(path));
  Emitted e = emit(path, true);
  CHECK(e.status.is_ok());
  CHECK(e.bytes == oracle(tricky));

  // Not a snapshot at all, or empty: no claim.
  slip::test::write_file(path, "");
  CHECK_FALSE(artifact::has_recent_commits(path));
  CHECK_FALSE(artifact::has_recent_commits(tmp.file("missing.snap")));
}

TEST_CASE("log payload: damage is refused (kNotSupported), a fold without cursor too") {
  TempDir tmp;
  const std::string path = tmp.file("fold.snap");
  std::mt19937 rng(7);
  std::vector<Op> ops = generate(rng, true, 3);
  if (ops.back().type != RecordType::kCursor) ops.pop_back();
  const std::string file = slip::test::encode_ops(ops);

  // Every single flipped byte: never a payload.
  for (std::size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    slip::test::write_file(path, bad);
    CAPTURE(i);
    for (bool assume : {false, true}) {
      Emitted e = emit(path, assume);
      CHECK_FALSE(e.status.is_ok());
    }
  }
  // A torn tail: the store repairs it, so it is the store's to export.
  slip::test::write_file(path, file.substr(0, file.size() - 3));
  CHECK(emit(path, false).status.kind() == StatusKind::kNotSupported);
  // (Passed through, a file with commits after its base is refused as not
  // canonical before the torn end is reached; a canonical one reaches it.)
  CHECK(emit(path, true).status.kind() == StatusKind::kCheckFailed);
  const std::string canonical = oracle(ops);
  slip::test::write_file(path, canonical.substr(0, canonical.size() - 3));
  CHECK(emit(path, true).status.kind() == StatusKind::kNotSupported);

  // Only PUTs: nothing says what they are complete up to (the store,
  // opened instead, says so, or finds the damage that hid a cursor).
  std::vector<Op> puts = {{RecordType::kPut, "a", "1", rev(1)},
                          {RecordType::kPut, "b", "2", rev(2)}};
  slip::test::write_file(path, slip::test::encode_ops(puts));
  CHECK(emit(path, false).status.kind() == StatusKind::kNotSupported);
  CHECK(emit(path, true).status.kind() == StatusKind::kCheckFailed);
}
