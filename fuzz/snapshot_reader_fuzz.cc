// libFuzzer target for the PGSS v2 reader and the whole-file operations
// built on it (replay, build_index, verify, compact).
//
// Each input is read three ways (a memfd through Reader::from_fd, a pipe
// through Reader::from_fd, the path through Reader::open) and compared with
// a reference parser written here from the spec alone (with zlib's CRC).
// Then:
//   - offsets and byte counts stay within the input; records are contiguous;
//   - every intact record re-encodes (encode_put/delete/cursor) to exactly
//     its bytes, and the header plus the records are the intact prefix;
//   - replay, build_index and verify (of the file and of a pipe's path, as
//     in `slip snapshot verify /dev/stdin`) agree with the reference state;
//   - for a file that is not invalid or corrupted, compact writes the
//     canonical encoding of that state, which reads cleanly, replays to the
//     same state, is recognised as canonical and is a fixed point of compact;
//     damaged input is refused and no output appears.
// Every input is checked a second time with its CRCs recomputed, so that
// mutations reach past the first record. A violation prints what failed and
// aborts, which libFuzzer reports as a crash with the input saved.
//
// Scratch files go to a private directory under $SLIP_FUZZ_TMPDIR, else
// /dev/shm, else /tmp.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slip/snapshot.h"
#include "slip/snapshot_format.h"
#include "slip/snapshot_reader.h"
#include "slip/snapshot_writer.h"

using namespace slip;
using namespace slip::snapshot;

namespace {

[[noreturn]] void check_failed(const char* what, int line) {
  std::fprintf(stderr, "snapshot_reader_fuzz: invariant violated (line %d): %s\n", line, what);
  std::abort();
}

#define CHECK(cond)                             \
  do {                                          \
    if (!(cond)) check_failed(#cond, __LINE__); \
  } while (0)

struct OwnedRecord {
  std::uint64_t offset = 0;
  std::uint32_t size = 0;
  RecordType type = RecordType::kPut;
  std::string key;
  std::string value;
  VersionToken version;

  bool operator==(const OwnedRecord&) const = default;
};

struct ReadResult {
  std::vector<OwnedRecord> records;
  Damage damage = Damage::kNone;
  std::uint64_t offset = 0;    // of the problem
  std::uint64_t consumed = 0;  // intact bytes

  bool operator==(const ReadResult&) const = default;
};

using Entries = std::map<std::string, std::pair<std::string, VersionToken>>;

// The state a replay of RECORDS must give (spec: "Replay").
struct ModelState {
  Entries entries;
  std::optional<VersionToken> cursor;
};

std::string g_dir;  // per-process scratch directory

ReadResult read_all(Reader& reader, std::uint64_t input_size) {
  ReadResult result;
  Record rec;
  std::uint64_t expected_offset = kHeaderSize;
  while (reader.next(&rec)) {
    CHECK(rec.offset == expected_offset);
    CHECK(rec.size >= kCursorFixedSize);
    CHECK(rec.offset + rec.size <= input_size);
    expected_offset += rec.size;
    CHECK(reader.bytes_consumed() == expected_offset);
    result.records.push_back(OwnedRecord{rec.offset, rec.size, rec.type, std::string(rec.key),
                                         std::string(rec.value), rec.version});
  }
  CHECK(reader.io_status().is_ok());
  // A second call after the end must change nothing.
  CHECK(!reader.next(&rec));
  result.damage = reader.problem().damage;
  result.offset = reader.problem().offset;
  result.consumed = reader.bytes_consumed();
  CHECK(result.offset <= input_size);
  CHECK(result.consumed <= input_size);
  if (result.damage == Damage::kNone) {
    CHECK(result.consumed == input_size);
    CHECK(reader.problem().reason.empty());
  } else {
    CHECK(result.offset == result.consumed);
    CHECK(!reader.problem().reason.empty());
  }
  return result;
}

ReadResult read_memfd(const std::uint8_t* data, std::size_t size) {
  int fd = ::memfd_create("snapshot", MFD_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(::write(fd, data, size) == static_cast<ssize_t>(size));
  CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  auto reader = Reader::from_fd(fd, "memfd");
  CHECK(reader.is_ok());
  return read_all(**reader, size);
}

// Returns the read end of a pipe holding the whole input, or -1 when the
// input does not fit the pipe buffer (it is written before anyone reads).
int pipe_with(const std::uint8_t* data, std::size_t size) {
  int fds[2];
  CHECK(::pipe2(fds, O_CLOEXEC) == 0);
  int capacity = ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  if (capacity < 0) capacity = ::fcntl(fds[1], F_GETPIPE_SZ);
  if (capacity < 0 || size > static_cast<std::size_t>(capacity)) {
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
  CHECK(::write(fds[1], data, size) == static_cast<ssize_t>(size));
  ::close(fds[1]);
  return fds[0];
}

// Reads through a pipe, which takes the reader's non-seekable path.
std::optional<ReadResult> read_pipe(const std::uint8_t* data, std::size_t size) {
  int fd = pipe_with(data, size);
  if (fd < 0) return std::nullopt;
  auto reader = Reader::from_fd(fd, "pipe");
  CHECK(reader.is_ok());
  return read_all(**reader, size);
}

ReadResult read_path(const std::string& path, std::size_t size) {
  auto reader = Reader::open(path);
  CHECK(reader.is_ok());
  return read_all(**reader, size);
}

// ---- reference parser: the spec's rules, written without looking at reader.cc ----

std::uint32_t le(const std::uint8_t* p, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Well-formed UTF-8 after the Unicode standard's table 3-7.
bool utf8_ok(std::string_view s) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto cont = [&](std::size_t k, std::uint8_t lo, std::uint8_t hi) {
    return k < n && b[k] >= lo && b[k] <= hi;
  };
  while (i < n) {
    std::uint8_t c = b[i];
    if (c <= 0x7f) {
      i += 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1, 0x80, 0xbf)) return false;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      std::uint8_t lo = c == 0xe0 ? 0xa0 : 0x80;
      std::uint8_t hi = c == 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2, 0x80, 0xbf)) return false;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      std::uint8_t lo = c == 0xf0 ? 0x90 : 0x80;
      std::uint8_t hi = c == 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2, 0x80, 0xbf) || !cont(i + 3, 0x80, 0xbf))
        return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// Where the spec leaves the order of two checks open, this follows the
// reader: a length over 10 is invalid as soon as its byte is read, and a key
// is checked for UTF-8 only once the record's CRC matched.
ReadResult reference_parse(const std::uint8_t* d, std::size_t n) {
  ReadResult r;
  auto stop = [&](Damage damage, std::uint64_t at) {
    r.damage = damage;
    r.offset = at;
    r.consumed = at;
    return r;
  };
  if (n < 6 || std::memcmp(d, "PGSS", 4) != 0 || le(d + 4, 2) != 2)
    return stop(Damage::kInvalid, 0);
  std::uint64_t pos = 6;
  while (pos < n) {
    const std::uint64_t left = n - pos;
    if (left < 5) return stop(Damage::kTornTail, pos);
    const std::uint8_t type = d[pos + 4];
    std::uint64_t at = 5;  // cursor within the record
    OwnedRecord rec;
    rec.offset = pos;
    rec.type = static_cast<RecordType>(type);
    std::uint64_t key_at = 0, key_len = 0, value_at = 0, value_len = 0;
    if (type == 1 || type == 2) {
      if (left < at + 2) return stop(Damage::kTornTail, pos);
      key_len = le(d + pos + at, 2);
      key_at = at + 2;
      at = key_at + key_len;
      if (type == 1) {
        if (left < at + 4) return stop(Damage::kTornTail, pos);
        value_len = le(d + pos + at, 4);
        value_at = at + 4;
        at = value_at + value_len;
      }
    } else if (type != 3) {
      return stop(Damage::kInvalid, pos);
    }
    if (left < at + 1) return stop(Damage::kTornTail, pos);
    const std::uint64_t ver_len = d[pos + at];
    if (ver_len > 10) return stop(Damage::kInvalid, pos);
    const std::uint64_t size = at + 1 + ver_len;
    if (left < size) return stop(Damage::kTornTail, pos);
    const std::uint32_t crc =
        static_cast<std::uint32_t>(::crc32(0, d + pos + 4, static_cast<uInt>(size - 4)));
    if (crc != le(d + pos, 4))
      return stop(left - size < 6 ? Damage::kTornTail : Damage::kCorrupted, pos);
    const char* base = reinterpret_cast<const char*>(d + pos);
    if (type != 3) {
      rec.key.assign(base + key_at, key_len);
      if (!utf8_ok(rec.key)) return stop(Damage::kInvalid, pos);
    }
    if (type == 1) rec.value.assign(base + value_at, value_len);
    rec.version = *VersionToken::from_bytes(std::string_view(base + at + 1, ver_len));
    rec.size = static_cast<std::uint32_t>(size);
    r.records.push_back(std::move(rec));
    pos += size;
  }
  r.consumed = pos;
  return r;
}

ModelState model_replay(const ReadResult& read) {
  ModelState state;
  if (read.damage == Damage::kInvalid || read.damage == Damage::kCorrupted) return state;
  for (const OwnedRecord& rec : read.records) {
    switch (rec.type) {
      case RecordType::kPut: state.entries[rec.key] = {rec.value, rec.version}; break;
      case RecordType::kDelete: state.entries.erase(rec.key); break;
      case RecordType::kCursor: state.cursor = rec.version; break;
    }
  }
  return state;
}

std::string encode(const OwnedRecord& rec) {
  std::string out;
  switch (rec.type) {
    case RecordType::kPut: encode_put(&out, rec.key, rec.value, rec.version); break;
    case RecordType::kDelete: encode_delete(&out, rec.key, rec.version); break;
    case RecordType::kCursor: encode_cursor(&out, rec.version); break;
  }
  return out;
}

std::string canonical_bytes(const ModelState& state) {
  std::string out;
  encode_header(&out);
  for (const auto& [key, entry] : state.entries) encode_put(&out, key, entry.first, entry.second);
  if (state.cursor) encode_cursor(&out, *state.cursor);
  return out;
}

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK(fd >= 0);
  CHECK(::write(fd, data, size) == static_cast<ssize_t>(size));
  ::close(fd);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void check_replay(const std::string& path, const ReadResult& read, const ModelState& model) {
  auto state = replay(path);
  CHECK(state.is_ok());
  CHECK(state->problem.damage == read.damage);
  CHECK(state->problem.offset == read.offset);
  CHECK(state->records == read.records.size());
  CHECK(state->cursor == model.cursor);
  CHECK(state->entries.size() == model.entries.size());
  auto it = model.entries.begin();
  for (const auto& [key, live] : state->entries) {
    CHECK(key == it->first);
    CHECK(live.value == it->second.first);
    CHECK(live.version == it->second.second);
    ++it;
  }
}

// FILE_SIZE is what verify can know of the size: 0 for a pipe.
void check_verify(const std::string& path, std::uint64_t file_size, const ReadResult& read,
                  const ModelState& model) {
  auto report = verify(path);
  CHECK(report.is_ok());
  CHECK(report->problem.damage == read.damage);
  CHECK(report->problem.offset == read.offset);
  CHECK(report->records == read.records.size());
  CHECK(report->bytes == read.consumed);
  CHECK(report->file_size == file_size);
  CHECK(report->cursor == model.cursor);
  const bool damaged = read.damage == Damage::kInvalid || read.damage == Damage::kCorrupted;
  // Exact unless two live keys collide in 64 bits, which these inputs cannot make likely.
  if (!damaged) CHECK(report->live_keys == model.entries.size());
}

// verify of a path that names a pipe, like `slip snapshot verify /dev/stdin`.
void check_verify_pipe(const std::uint8_t* data, std::size_t size, const ReadResult& read,
                       const ModelState& model) {
  int fd = pipe_with(data, size);
  if (fd < 0) return;
  check_verify("/proc/self/fd/" + std::to_string(fd), 0, read, model);
  ::close(fd);
}

// Returns the index's view of whether the file is canonical.
bool check_index(const std::string& path, std::size_t size, const ReadResult& read,
                 const ModelState& model) {
  auto index = build_index(path);
  CHECK(index.is_ok());
  CHECK(index->problem.damage == read.damage);
  CHECK(index->problem.offset == read.offset);
  CHECK(index->file_size == size);
  CHECK(index->intact_bytes == read.consumed);
  CHECK(index->counts.total() == read.records.size());
  CHECK(index->live_bytes <= index->intact_bytes);
  if (read.damage == Damage::kInvalid || read.damage == Damage::kCorrupted) return false;
  CHECK(index->cursor == model.cursor);
  CHECK(index->live.size() == model.entries.size());
  std::uint64_t live_bytes = 0;
  for (const auto& [key, entry] : model.entries) {
    auto it = index->live.find(key);
    CHECK(it != index->live.end());
    CHECK(it->second.version == entry.second);
    CHECK(it->second.value_size == entry.first.size());
    auto value = read_value(path, it->second);
    CHECK(value.is_ok());
    CHECK(*value == entry.first);
    live_bytes += it->second.record_size;
  }
  if (model.cursor) live_bytes += index->cursor_size;
  CHECK(index->live_bytes == live_bytes);
  CHECK(index->dead_bytes() + index->live_bytes + (read.consumed ? kHeaderSize : 0) ==
        read.consumed);
  CHECK(index->sorted_keys().size() == model.entries.size());
  return index->canonical;
}

void check_compact(const std::string& in, const std::uint8_t* data, std::size_t size,
                   const ReadResult& read, const ModelState& model, bool canonical) {
  const std::string out = g_dir + "/out.snap";
  ::unlink(out.c_str());
  auto report = compact(in, out);
  if (read.damage == Damage::kInvalid || read.damage == Damage::kCorrupted) {
    CHECK(!report.is_ok());
    CHECK(report.status().kind() == StatusKind::kCorruption);
    CHECK(!exists(out));
    return;
  }
  CHECK(report.is_ok());
  CHECK(report->rewritten);
  CHECK(report->bytes_before == size);
  CHECK(report->live_keys == model.entries.size());
  CHECK(report->torn_tail_dropped == (read.damage == Damage::kTornTail));
  if (report->torn_tail_dropped) CHECK(report->torn_tail_offset == read.offset);

  const std::string expected = canonical_bytes(model);
  const std::string written = read_file(out);
  CHECK(written == expected);
  CHECK(report->bytes_after == written.size());
  // The input is canonical exactly when it already is the canonical encoding.
  CHECK(canonical == (std::string_view(reinterpret_cast<const char*>(data), size) == expected));

  ReadResult reread = read_path(out, written.size());
  CHECK(reread.damage == Damage::kNone);
  CHECK(model_replay(reread).entries == model.entries);
  CHECK(model_replay(reread).cursor == model.cursor);
  check_replay(out, reread, model);
  auto again = build_index(out);
  CHECK(again.is_ok() && again->canonical);

  // Compacting a canonical file onto itself leaves it alone.
  auto fixed = compact(out, out);
  CHECK(fixed.is_ok());
  CHECK(!fixed->rewritten);
  CHECK(read_file(out) == expected);
  ::unlink(out.c_str());
}

void cleanup() {
  if (g_dir.empty()) return;
  ::unlink((g_dir + "/in.snap").c_str());
  ::unlink((g_dir + "/out.snap").c_str());
  ::rmdir(g_dir.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // tmpfs when there is one: compact fsyncs on every run.
  const char* base = std::getenv("SLIP_FUZZ_TMPDIR");
  if (base == nullptr) base = exists("/dev/shm") ? "/dev/shm" : "/tmp";
  std::string tmpl = std::string(base) + "/slip-fuzz.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("snapshot_reader_fuzz: mkdtemp");
    std::abort();
  }
  g_dir = tmpl;
  std::atexit(cleanup);
  return 0;
}

namespace {

// Mutations almost never produce a matching CRC, so most inputs would stop
// at their first changed record. This returns a copy of the input with the
// CRC of every record whose length fields fit the input set to match, which
// lets the fuzzer reach keys, deletes, ordering and compaction.
std::string with_fixed_crcs(const std::uint8_t* d, std::size_t n) {
  std::string out(reinterpret_cast<const char*>(d), n);
  std::uint64_t pos = kHeaderSize;
  while (n >= kHeaderSize && pos + 5 <= n) {
    const std::uint8_t type = d[pos + 4];
    std::uint64_t at = 5;
    if (type == 1 || type == 2) {
      if (pos + at + 2 > n) break;
      at += 2 + le(d + pos + at, 2);
      if (type == 1) {
        if (pos + at + 4 > n) break;
        at += 4 + static_cast<std::uint64_t>(le(d + pos + at, 4));
      }
    } else if (type != 3) {
      break;
    }
    if (pos + at + 1 > n) break;
    const std::uint64_t size = at + 1 + d[pos + at];
    if (pos + size > n) break;
    const auto crc =
        static_cast<std::uint32_t>(::crc32(0, d + pos + 4, static_cast<uInt>(size - 4)));
    for (int i = 0; i < 4; ++i) out[pos + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    pos += size;
  }
  return out;
}

void check_input(const std::uint8_t* data, std::size_t size) {
  const ReadResult reference = reference_parse(data, size);
  const ReadResult from_memfd = read_memfd(data, size);
  CHECK(from_memfd == reference);
  if (auto from_pipe = read_pipe(data, size)) CHECK(*from_pipe == from_memfd);

  // Every intact record re-encodes to its own bytes; the header and the
  // records are the intact prefix.
  const auto* bytes = reinterpret_cast<const char*>(data);
  if (from_memfd.consumed > 0) {
    std::string prefix;
    encode_header(&prefix);
    for (const OwnedRecord& rec : from_memfd.records) {
      std::string encoded = encode(rec);
      CHECK(encoded.size() == rec.size);
      CHECK(std::string_view(bytes + rec.offset, rec.size) == encoded);
      prefix += encoded;
    }
    CHECK(prefix == std::string_view(bytes, from_memfd.consumed));
  } else {
    CHECK(from_memfd.records.empty());
  }

  const std::string in = g_dir + "/in.snap";
  write_file(in, data, size);
  CHECK(read_path(in, size) == from_memfd);
  const ModelState model = model_replay(from_memfd);
  check_replay(in, from_memfd, model);
  check_verify(in, size, from_memfd, model);
  check_verify_pipe(data, size, from_memfd, model);
  const bool canonical = check_index(in, size, from_memfd, model);
  check_compact(in, data, size, from_memfd, model, canonical);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_input(data, size);
  const std::string fixed = with_fixed_crcs(data, size);
  if (std::memcmp(fixed.data(), data, size) != 0) {
    check_input(reinterpret_cast<const std::uint8_t*>(fixed.data()), fixed.size());
  }
  return 0;
}
