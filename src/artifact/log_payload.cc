#include "artifact/log_payload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "core/crc32.h"
#include "fs/io.h"
#include "snapshot/le.h"

#include "slip/snapshot_reader.h"
#include "slip/snapshot_writer.h"

namespace slip::artifact {

namespace {

constexpr std::size_t kChunk = 1 << 20;
// has_recent_commits() looks this far back: a mirror commits at most 1,000
// updates at a time, so this holds a whole last commit of values up to ~4 KiB.
constexpr std::size_t kRecentWindow = 4 << 20;
constexpr int kMaxChains = 16;  // ... and follows this many candidates

Status not_canonical(const std::string& path) {
  return Status::check_failed(path + " is not in canonical form");
}

// What the tail leaves of a key: its last PUT, or nullopt when deleted.
struct TailValue {
  std::string value;
  VersionToken version;
};
using Tail = std::map<std::string, std::optional<TailValue>, std::less<>>;

Status damaged(const snapshot::Reader& reader) {
  SLIP_RETURN_IF_ERROR(reader.io_status());
  const snapshot::Problem& p = reader.problem();
  return Status::not_supported(reader.name() + ": " + snapshot::damage_name(p.damage) +
                               " at offset " + std::to_string(p.offset) +
                               " (the fold store decides what to do with it)");
}

// A reader of its own, from the start, over the file open as FD: every
// pass reads the same file, whatever happens to PATH meanwhile (`slip
// snapshot compact` replaces a file by rename). The passes run one after
// another, so sharing FD's offset does no harm.
Result<std::unique_ptr<snapshot::Reader>> reader_of(int fd, const std::string& path) {
  if (::lseek(fd, 0, SEEK_SET) < 0) return Status::from_errno(errno, "seek in " + path);
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Status::from_errno(errno, "dup " + path);
  return snapshot::Reader::from_fd(copy, path);
}

// Pass 1: the offset of the first record that is not part of the leading
// run of strictly ascending PUTs.
Result<std::uint64_t> find_base_end(int fd, const std::string& path) {
  auto reader = reader_of(fd, path);
  if (!reader) return reader.status();
  (*reader)->set_checks(false);
  snapshot::Record rec;
  std::string previous;
  bool first = true;
  while ((*reader)->next(&rec)) {
    if (rec.type != snapshot::RecordType::kPut || (!first && rec.key <= previous))
      return rec.offset;
    previous.assign(rec.key);
    first = false;
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  // The end, or damage there: pass 2 meets the same damage and says so.
  return (*reader)->bytes_consumed();
}

// Pass 2: the tail from BASE_END folded into TAIL; the last cursor.
Result<std::optional<VersionToken>> fold_tail(int fd, const std::string& path,
                                              std::uint64_t base_end, Tail* tail) {
  auto reader = reader_of(fd, path);
  if (!reader) return reader.status();
  SLIP_RETURN_IF_ERROR((*reader)->seek(base_end));
  std::optional<VersionToken> cursor;
  snapshot::Record rec;
  while ((*reader)->next(&rec)) {
    switch (rec.type) {
      case snapshot::RecordType::kPut:
        tail->insert_or_assign(std::string(rec.key),
                               TailValue{std::string(rec.value), rec.version});
        break;
      case snapshot::RecordType::kDelete:
        tail->insert_or_assign(std::string(rec.key), std::nullopt);
        break;
      case snapshot::RecordType::kCursor: cursor = rec.version; break;
    }
  }
  if (!(*reader)->io_status().is_ok() || (*reader)->problem().damage != snapshot::Damage::kNone)
    return damaged(**reader);
  return cursor;
}

bool in_scope(std::string_view key, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const std::string& p : prefixes) {
    if (key.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

// Collects encoded records and hands them to the sink about kChunk at a
// time. TAPPED: the reader hands the file's own bytes to the sink (a file
// passed through as it is), so records are only counted here.
class Output {
 public:
  Output(const Sink& sink, const std::vector<std::string>& prefixes,
         const std::function<void(std::uint64_t)>& entries_done, bool tapped)
      : sink_(sink), prefixes_(prefixes), entries_done_(entries_done), tapped_(tapped) {
    if (tapped_) return;
    buf_.reserve(kChunk + 4096);
    snapshot::encode_header(&buf_);
  }

  Status raw(std::string_view key, std::string_view record) {
    if (!in_scope(key, prefixes_)) return Status::ok();
    if (!tapped_) buf_.append(record);
    return counted();
  }
  Status put(std::string_view key, const TailValue& v) {
    if (!in_scope(key, prefixes_)) return Status::ok();
    snapshot::encode_put(&buf_, key, v.value, v.version);
    return counted();
  }
  Status finish(const VersionToken& cursor) {
    if (tapped_) return Status::ok();
    snapshot::encode_cursor(&buf_, cursor);
    return sink_(buf_.data(), buf_.size());
  }
  std::uint64_t entries() const { return entries_; }

 private:
  Status counted() {
    ++entries_;
    if (tapped_) {
      if (entries_done_ && entries_ % 4096 == 0) entries_done_(entries_);
      return Status::ok();
    }
    if (buf_.size() < kChunk) return Status::ok();
    if (entries_done_) entries_done_(entries_);
    Status s = sink_(buf_.data(), buf_.size());
    buf_.clear();
    return s;
  }

  const Sink& sink_;
  const std::vector<std::string>& prefixes_;
  const std::function<void(std::uint64_t)>& entries_done_;
  const bool tapped_;
  std::string buf_;
  std::uint64_t entries_ = 0;
};

}  // namespace

bool has_recent_commits(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  std::string tail;
  std::uint64_t window_at = 0;  // the file offset of tail[0]
  if (::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(snapshot::kHeaderSize)) {
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    tail.resize(std::min<std::uint64_t>(kRecentWindow, size - snapshot::kHeaderSize));
    window_at = size - tail.size();
    if (!fs::pread_all(fd, tail.data(), tail.size(), window_at, path)) tail.clear();
  }
  ::close(fd);
  // Is there a CURSOR record that starts at I of TAIL?
  auto cursor_at = [&](std::size_t i) {
    if (i + snapshot::kCursorFixedSize > tail.size() ||
        tail[i + 4] != static_cast<char>(snapshot::RecordType::kCursor))
      return false;
    const std::size_t len = static_cast<unsigned char>(tail[i + 5]);
    const std::size_t size = snapshot::kCursorFixedSize + len;
    return len <= snapshot::kMaxVersionSize && i + size <= tail.size() &&
           snapshot::load_u32(tail.data() + i) == crc32_ieee(0, tail.data() + i + 4, size - 4);
  };
  std::size_t last = std::string::npos;  // the file's last record: a CURSOR
  for (std::size_t len = 0; len <= snapshot::kMaxVersionSize && last == std::string::npos; ++len) {
    const std::size_t size = snapshot::kCursorFixedSize + len;
    if (size <= tail.size() && cursor_at(tail.size() - size)) last = tail.size() - size;
  }
  if (last == std::string::npos) return false;
  // A candidate counts only when whole, checked records lead from it to
  // the last one (bytes inside a value can look like a record).
  int chains = 0;
  for (std::size_t i = last; i-- > 0 && chains < kMaxChains;) {
    if (!cursor_at(i)) continue;
    ++chains;
    auto reader = snapshot::Reader::open(path);
    if (!reader || !(*reader)->seek(window_at + i)) continue;
    snapshot::Record rec;
    while ((*reader)->next(&rec) && rec.offset < window_at + last) {
    }
    if (rec.offset == window_at + last && rec.type == snapshot::RecordType::kCursor) return true;
  }
  return false;
}

Result<LogPayload> emit_log_payload(const std::string& path,
                                    const std::vector<std::string>& prefixes, const Sink& sink,
                                    const std::function<void(std::uint64_t)>& entries_done,
                                    bool assume_canonical) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  struct Fd {
    int fd;
    ~Fd() { ::close(fd); }
  } guard{fd};
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  // Assumed canonical: the base is all of the file but its last record,
  // which pass 3 finds and checks.
  std::uint64_t base_end = std::numeric_limits<std::uint64_t>::max();
  Tail tail;
  std::optional<VersionToken> cursor;
  if (!assume_canonical) {
    auto end = find_base_end(fd, path);
    if (!end) return end.status();
    base_end = *end;
    auto last = fold_tail(fd, path, base_end, &tail);
    if (!last) return last.status();
    // No cursor at all, or damage in the base that pass 1 could not see:
    // the store's checked replay tells which.
    if (!*last) return Status::not_supported(path + " has no cursor record after its base");
    cursor = *last;
  }

  // Pass 3: the base merged with the tail, in key order.
  auto reader = reader_of(fd, path);
  if (!reader) return reader.status();
  // A whole file assumed canonical is its own payload: its bytes go to the
  // sink as they are read, with no copy.
  const bool pass_through = assume_canonical && prefixes.empty();
  if (pass_through) SLIP_RETURN_IF_ERROR((*reader)->set_tap(sink));
  Output out(sink, prefixes, entries_done, pass_through);
  auto next_tail = tail.begin();
  // Emits the tail's keys below KEY (all of them when KEY is nullopt).
  auto tail_until = [&](std::optional<std::string_view> key) -> Status {
    for (; next_tail != tail.end() && (!key || next_tail->first < *key); ++next_tail) {
      if (next_tail->second) SLIP_RETURN_IF_ERROR(out.put(next_tail->first, *next_tail->second));
    }
    return Status::ok();
  };
  snapshot::Record rec;
  std::string previous;
  bool first = true;
  const Status changed = Status::not_supported(path + " changed while it was exported");
  while ((*reader)->next(&rec)) {
    if (rec.offset >= base_end) {
      if (rec.offset != base_end) return changed;  // not where pass 1 saw the base end
      break;
    }
    // Pass 1 did not check the records; this pass does, order included.
    if (rec.type != snapshot::RecordType::kPut || (!first && rec.key <= previous)) {
      if (!assume_canonical) return changed;
      if (rec.type != snapshot::RecordType::kCursor) return not_canonical(path);
      cursor = rec.version;
      if ((*reader)->next(&rec)) return not_canonical(path);
      break;
    }
    previous.assign(rec.key);
    first = false;
    SLIP_RETURN_IF_ERROR(tail_until(rec.key));
    if (next_tail != tail.end() && next_tail->first == rec.key) {
      if (next_tail->second) SLIP_RETURN_IF_ERROR(out.put(next_tail->first, *next_tail->second));
      ++next_tail;
      continue;
    }
    SLIP_RETURN_IF_ERROR(out.raw(rec.key, rec.raw));
  }
  // Stopped early by damage (or a file that shrank under us).
  if (!(*reader)->io_status().is_ok() || (*reader)->problem().damage != snapshot::Damage::kNone ||
      (!assume_canonical && (*reader)->bytes_consumed() < base_end))
    return damaged(**reader);
  if (!cursor) return not_canonical(path);  // only PUTs: the long way decides
  SLIP_RETURN_IF_ERROR(tail_until(std::nullopt));
  SLIP_RETURN_IF_ERROR(out.finish(*cursor));
  return LogPayload{out.entries(), *cursor};
}

}  // namespace slip::artifact
