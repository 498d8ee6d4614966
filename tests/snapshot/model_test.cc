// Model-based tests: random sequences of puts, deletes and cursors, written
// and read back, against an in-memory model of the spec's replay rules.
#include <doctest/doctest.h>

#include <unistd.h>

#include <random>

#include "slip/snapshot.h"
#include "slip/snapshot_writer.h"
#include "support/files.h"
#include "support/process.h"
#include "support/snapshot_model.h"

namespace snap = slip::snapshot;
using slip::VersionToken;
using slip::test::Op;

namespace {

std::vector<Op> random_ops(std::mt19937_64& rng, int count) {
  std::vector<Op> ops;
  std::uint64_t revision = 0;
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> key_pick(0, 15);
  std::uniform_int_distribution<int> len(0, 40);
  for (int i = 0; i < count; ++i) {
    int k = kind(rng);
    std::string key = "k" + std::to_string(key_pick(rng));
    if (key_pick(rng) == 0) key = "ключ/" + key;  // multi-byte UTF-8
    if (k < 6) {
      std::string value(static_cast<std::size_t>(len(rng)), '\0');
      for (char& c : value) c = static_cast<char>(rng() & 0xff);  // binary values
      ops.push_back({snap::RecordType::kPut, key, value, VersionToken::from_revision(++revision)});
    } else if (k < 8) {
      // Some deletes carry no version (a synthetic delete during a resync).
      VersionToken v = k == 7 ? VersionToken() : VersionToken::from_revision(++revision);
      ops.push_back({snap::RecordType::kDelete, key, "", v});
    } else if (k == 8) {
      ops.push_back({snap::RecordType::kCursor, "", "", VersionToken::from_revision(revision)});
    } else {
      // A 10-byte token, as a FoundationDB versionstamp would be.
      auto token = *VersionToken::from_bytes(
          std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9) + static_cast<char>(i & 0x7f));
      ops.push_back({snap::RecordType::kPut, key, "v", token});
    }
  }
  return ops;
}

}  // namespace

TEST_CASE("model: random files replay to the model state") {
  std::mt19937_64 rng(20261125);
  slip::test::TempDir dir;
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    auto ops = random_ops(rng, 1 + round % 60);
    std::string path = dir.file("r.snap");
    slip::test::write_file(path, slip::test::encode_ops(ops));
    auto state = snap::replay(path);
    REQUIRE(state.is_ok());
    CHECK(state->problem.damage == snap::Damage::kNone);
    CHECK(state->records == ops.size());
    CHECK(slip::test::model_of(*state) == slip::test::model_of(ops));
    auto report = snap::verify(path);
    REQUIRE(report.is_ok());
    CHECK(report->live_keys == slip::test::model_of(ops).entries.size());
  }
}

TEST_CASE(
    "model: the Writer produces the same bytes as the encoder and only commit moves the cursor") {
  std::mt19937_64 rng(7);
  slip::test::TempDir dir;
  auto ops = random_ops(rng, 300);
  std::string path = dir.file("w.snap");
  {
    auto writer = snap::Writer::open_append(path, {});
    REQUIRE(writer.is_ok());
    for (const Op& op : ops) {
      switch (op.type) {
        case snap::RecordType::kPut:
          CHECK((*writer)->put(op.key, op.value, op.version).is_ok());
          break;
        case snap::RecordType::kDelete: CHECK((*writer)->del(op.key, op.version).is_ok()); break;
        case snap::RecordType::kCursor: CHECK((*writer)->commit_cursor(op.version).is_ok()); break;
      }
    }
    CHECK((*writer)->flush().is_ok());
  }
  CHECK(slip::test::read_file(path) == slip::test::encode_ops(ops));

  // Reopening appends after the existing records, without a second header.
  {
    auto writer = snap::Writer::open_append(path, {.sync = true});
    REQUIRE(writer.is_ok());
    CHECK((*writer)->put("late", "x", VersionToken::from_revision(999)).is_ok());
    CHECK((*writer)->commit_cursor(VersionToken::from_revision(999)).is_ok());
  }
  auto state = snap::replay(path);
  REQUIRE(state.is_ok());
  CHECK(state->problem.damage == snap::Damage::kNone);
  CHECK(state->entries.at("late").value == "x");
  CHECK(state->cursor->revision() == 999);

  // Data put but never committed is not followed by a cursor naming it.
  {
    auto writer = snap::Writer::open_append(path, {});
    REQUIRE(writer.is_ok());
    CHECK((*writer)->put("uncommitted", "y", VersionToken::from_revision(1000)).is_ok());
    CHECK((*writer)->flush().is_ok());
  }
  state = snap::replay(path);
  REQUIRE(state.is_ok());
  CHECK(state->cursor->revision() == 999);
}

TEST_CASE("model: the writer rejects keys the format cannot hold") {
  slip::test::TempDir dir;
  auto writer = snap::Writer::open_append(dir.file("k.snap"), {});
  REQUIRE(writer.is_ok());
  CHECK((*writer)->put(std::string("\xff\xfe", 2), "v", VersionToken()).kind() ==
        slip::StatusKind::kInvalidArgument);
  CHECK((*writer)->put(std::string(70000, 'k'), "v", VersionToken()).kind() ==
        slip::StatusKind::kInvalidArgument);
}

TEST_CASE("model: compaction preserves the state, is canonical and idempotent") {
  std::mt19937_64 rng(42);
  slip::test::TempDir dir;
  for (int round = 0; round < 100; ++round) {
    CAPTURE(round);
    auto ops = random_ops(rng, 1 + round);
    std::string path = dir.file("c.snap");
    slip::test::write_file(path, slip::test::encode_ops(ops));
    auto compacted = snap::compact(path, dir.file("out.snap"));
    REQUIRE(compacted.is_ok());
    auto state = snap::replay(dir.file("out.snap"));
    REQUIRE(state.is_ok());
    CHECK(slip::test::model_of(*state) == slip::test::model_of(ops));
    auto index = snap::build_index(dir.file("out.snap"));
    REQUIRE(index.is_ok());
    CHECK(index->canonical);
    CHECK(index->dead_bytes() == 0);

    // The canonical bytes are exactly what the spec describes.
    std::vector<Op> canonical;
    auto model = slip::test::model_of(ops);
    for (const auto& [key, vv] : model.entries) {
      canonical.push_back(
          {snap::RecordType::kPut, key, vv.first, *VersionToken::from_bytes(vv.second)});
    }
    if (model.cursor)
      canonical.push_back(
          {snap::RecordType::kCursor, "", "", *VersionToken::from_bytes(*model.cursor)});
    const std::string bytes = slip::test::read_file(dir.file("out.snap"));
    CHECK(bytes == slip::test::encode_ops(canonical));

    // Compacting a compact file in place leaves it byte-identical and unrewritten.
    auto again = snap::compact(dir.file("out.snap"), dir.file("out.snap"));
    REQUIRE(again.is_ok());
    CHECK_FALSE(again->rewritten);
    CHECK(slip::test::read_file(dir.file("out.snap")) == bytes);
  }
}

TEST_CASE("model: a file cut at every length replays to the state of its complete records") {
  std::mt19937_64 rng(99);
  auto ops = random_ops(rng, 40);
  const std::string full = slip::test::encode_ops(ops);
  // Where each record ends, to know which records a cut keeps.
  std::vector<std::size_t> ends;
  {
    std::vector<Op> prefix;
    for (const Op& op : ops) {
      prefix.push_back(op);
      ends.push_back(slip::test::encode_ops(prefix).size());
    }
  }
  slip::test::TempDir dir;
  const std::string path = dir.file("cut.snap");
  for (std::size_t len = 0; len <= full.size(); ++len) {
    CAPTURE(len);
    slip::test::write_file(path, full.substr(0, len));
    auto state = snap::replay(path);
    REQUIRE(state.is_ok());
    if (len < snap::kHeaderSize) {
      CHECK(state->problem.damage == snap::Damage::kInvalid);
      continue;
    }
    std::size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= len) ++complete;
    std::vector<Op> kept(ops.begin(), ops.begin() + static_cast<long>(complete));
    const bool at_boundary =
        len == snap::kHeaderSize || (complete > 0 && ends[complete - 1] == len);
    CHECK(state->problem.damage == (at_boundary ? snap::Damage::kNone : snap::Damage::kTornTail));
    CHECK(slip::test::model_of(*state) == slip::test::model_of(kept));
    if (!at_boundary)
      CHECK(state->problem.offset == (complete ? ends[complete - 1] : snap::kHeaderSize));
  }
}

TEST_CASE("model: a flipped byte inside any record is detected") {
  std::mt19937_64 rng(5);
  auto ops = random_ops(rng, 30);
  const std::string full = slip::test::encode_ops(ops);
  slip::test::TempDir dir;
  const std::string path = dir.file("flip.snap");
  for (std::size_t at = snap::kHeaderSize; at < full.size(); ++at) {
    for (unsigned char mask : {0x01, 0x80}) {
      CAPTURE(at);
      std::string damaged = full;
      damaged[at] = static_cast<char>(damaged[at] ^ mask);
      slip::test::write_file(path, damaged);
      auto report = snap::verify(path);
      REQUIRE(report.is_ok());
      CHECK(report->problem.damage != snap::Damage::kNone);
      CHECK(report->problem.offset <= at);
    }
  }
}

TEST_CASE("model: a bad CRC in the middle is corrupted, in the last record a torn tail") {
  std::vector<Op> ops = {{snap::RecordType::kPut, "a", "1", VersionToken::from_revision(1)},
                         {snap::RecordType::kPut, "b", "2", VersionToken::from_revision(2)},
                         {snap::RecordType::kCursor, "", "", VersionToken::from_revision(2)}};
  std::string full = slip::test::encode_ops(ops);
  slip::test::TempDir dir;
  const std::string path = dir.file("crc.snap");
  std::string mid = full;
  mid[snap::kHeaderSize] ^= 1;  // CRC of the first record
  slip::test::write_file(path, mid);
  auto report = snap::verify(path);
  REQUIRE(report.is_ok());
  CHECK(report->problem.damage == snap::Damage::kCorrupted);
  CHECK(report->problem.offset == snap::kHeaderSize);
  CHECK_FALSE(report->cursor.has_value());

  std::string last = full;
  last[last.size() - 1] ^= 1;  // inside the final cursor record
  slip::test::write_file(path, last);
  report = snap::verify(path);
  REQUIRE(report.is_ok());
  CHECK(report->problem.damage == snap::Damage::kTornTail);
  CHECK(report->live_keys == 2);
}

TEST_CASE("model: verify counts live keys of unordered files through the fingerprint set") {
  // Ascending puts first (the counting fast path), then an out-of-order key
  // and deletes, which force the switch to the set in the middle of the file.
  std::vector<Op> ops;
  for (int i = 0; i < 1000; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "key/%05d", i);
    ops.push_back({snap::RecordType::kPut, key, "v", VersionToken::from_revision(i + 1)});
  }
  ops.push_back({snap::RecordType::kPut, "key/00010", "again", VersionToken::from_revision(1001)});
  for (int i = 0; i < 300; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "key/%05d", i * 2);
    ops.push_back({snap::RecordType::kDelete, key, "", VersionToken::from_revision(1002 + i)});
  }
  ops.push_back({snap::RecordType::kDelete, "never-existed", "", VersionToken()});
  slip::test::TempDir dir;
  slip::test::write_file(dir.file("u.snap"), slip::test::encode_ops(ops));
  auto report = snap::verify(dir.file("u.snap"));
  REQUIRE(report.is_ok());
  CHECK(report->live_keys == 700);
  CHECK(report->live_keys == slip::test::model_of(ops).entries.size());
}

TEST_CASE("model: a length field past the end of a pipe is a torn tail, not a huge allocation") {
  // PUT with key_len 0 and value_len 0xfffffff0: the stream ends long before.
  std::string bytes;
  snap::encode_header(&bytes);
  bytes += std::string("\0\0\0\0\x01\0\0\xf0\xff\xff\xff", 11) + std::string(100, 'x');
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fds[1]);
  auto reader = snap::Reader::from_fd(fds[0], "pipe");
  REQUIRE(reader.is_ok());
  snap::Record rec;
  CHECK_FALSE((*reader)->next(&rec));
  CHECK((*reader)->problem().damage == snap::Damage::kTornTail);
  CHECK((*reader)->problem().offset == snap::kHeaderSize);
}

TEST_CASE("model: verify through a pipe counts the live keys of an unordered file") {
  std::vector<Op> ops;
  for (int i = 0; i < 2000; ++i) {
    ops.push_back({snap::RecordType::kPut, "k" + std::to_string((i * 7919) % 1500), "v",
                   VersionToken::from_revision(i + 1)});
  }
  auto run = slip::test::run_slip({"snapshot", "verify", "--json", "/dev/stdin"},
                                  slip::test::encode_ops(ops));
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("\"live_keys\":1500") != std::string::npos);
  CHECK(run.out.find("\"status\":\"ok\"") != std::string::npos);
}
