#include "slip/snapshot_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/crc32.h"
#include "core/text.h"
#include "snapshot/le.h"

namespace slip::snapshot {

namespace {

constexpr std::size_t kInitialBuffer = 1 << 20;

}  // namespace

const char* damage_name(Damage damage) {
  switch (damage) {
    case Damage::kNone: return "ok";
    case Damage::kInvalid: return "invalid";
    case Damage::kTornTail: return "torn_tail";
    case Damage::kCorrupted: return "corrupted";
  }
  return "invalid";
}

Result<std::unique_ptr<Reader>> Reader::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::from_errno(err, "stat " + path);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::invalid_argument(path + " is a directory, not a snapshot file");
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return from_fd(fd, path);
}

Result<std::unique_ptr<Reader>> Reader::from_fd(int fd, std::string name) {
  std::unique_ptr<Reader> reader(new Reader(fd, std::move(name)));
  struct stat st;
  reader->is_regular_ = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  reader->read_header();
  if (!reader->io_status_.is_ok()) return reader->io_status_;
  return reader;
}

Reader::Reader(int fd, std::string name)
    : fd_(fd), name_(std::move(name)), buf_(new char[kInitialBuffer]), cap_(kInitialBuffer) {}

Reader::~Reader() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t Reader::fill(std::size_t n) {
  std::size_t avail = end_ - pos_;
  if (avail >= n || eof_) return avail;
  if (n > cap_ && is_regular_) {
    // Never grow the buffer for a length field that points past the end of
    // the file (a torn or damaged record): read what there is instead.
    struct stat st;
    std::uint64_t size = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (consumed_ + n > size)
      n = static_cast<std::size_t>(size > consumed_ ? size - consumed_ : 0) + 1;
  }
  // Grows the buffer to at least WANT bytes (doubling), unread bytes first.
  auto grow = [this](std::size_t want) {
    std::size_t cap = cap_;
    while (cap < want) cap *= 2;
    std::unique_ptr<char[]> grown(new char[cap]);
    std::memcpy(grown.get(), buf_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    buf_ = std::move(grown);
    cap_ = cap;
  };
  if (n > cap_ - pos_) {
    if (n > cap_) {
      // A record larger than the buffer: grow to hold it, no more. The size
      // of a pipe is unknown, so there the buffer grows one doubling at a
      // time as bytes arrive: a length field pointing past the end of the
      // stream must not allocate gigabytes up front.
      grow(is_regular_ ? n : std::min(n, cap_ * 2));
    } else {
      std::memmove(buf_.get(), buf_.get() + pos_, avail);
      end_ = avail;
      pos_ = 0;
    }
  }
  while (end_ - pos_ < n) {
    if (end_ == cap_) grow(std::min(n, cap_ * 2));  // only when not is_regular_
    ssize_t got = ::read(fd_, buf_.get() + end_, cap_ - end_);
    if (got < 0) {
      if (errno == EINTR) continue;
      io_status_ = Status::from_errno(errno, "read " + name_);
      eof_ = true;
      break;
    }
    if (got == 0) {
      eof_ = true;
      break;
    }
    if (tap_) {
      Status s = tap_(buf_.get() + end_, static_cast<std::size_t>(got));
      if (!s) {
        io_status_ = std::move(s);
        eof_ = true;
        break;
      }
    }
    end_ += static_cast<std::size_t>(got);
  }
  return end_ - pos_;
}

Status Reader::set_tap(Tap tap) {
  // The buffer must still start at offset 0 of the file (nothing dropped).
  if (consumed_ != pos_) return Status::invalid_argument("set_tap after the first record");
  tap_ = std::move(tap);
  if (end_ == 0) return Status::ok();
  Status s = tap_(buf_.get(), end_);
  if (!s) {
    io_status_ = s;
    eof_ = true;
  }
  return s;
}

Status Reader::seek(std::uint64_t offset) {
  if (!is_regular_) return Status::invalid_argument(name_ + ": cannot seek in a stream");
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
    return Status::from_errno(errno, "seek in " + name_);
  pos_ = end_ = 0;
  eof_ = false;
  consumed_ = offset;
  return Status::ok();
}

bool Reader::fail(Damage damage, std::string reason) {
  problem_.damage = damage;
  problem_.offset = consumed_;
  problem_.reason = std::move(reason);
  return false;
}

void Reader::read_header() {
  std::size_t avail = fill(kHeaderSize);
  if (!io_status_.is_ok()) return;
  if (avail < kHeaderSize) {
    fail(Damage::kInvalid,
         "file too short for a header (" + std::to_string(avail) + " of 6 bytes)");
    return;
  }
  const char* p = buf_.get() + pos_;
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) {
    fail(Damage::kInvalid, "bad magic");
    return;
  }
  format_version_ = load_u16(p + 4);
  if (format_version_ != kFormatVersion) {
    fail(Damage::kInvalid, "unsupported version " + std::to_string(format_version_));
    return;
  }
  pos_ += kHeaderSize;
  consumed_ = kHeaderSize;
}

bool Reader::next(Record* record) {
  if (problem_.damage != Damage::kNone || !io_status_.is_ok()) return false;
  std::size_t avail = fill(kRecordPrefixSize);
  if (!io_status_.is_ok()) return false;
  if (avail == 0) return false;  // clean end of file
  auto torn = [&] { return fail(Damage::kTornTail, "record runs past the end of the file"); };
  if (avail < kRecordPrefixSize) return torn();

  const char* p = buf_.get() + pos_;
  const auto type = static_cast<std::uint8_t>(p[4]);
  std::size_t key_len = 0;
  std::size_t value_len = 0;
  std::size_t value_at = 0;
  std::size_t ver_at = 0;  // offset of the length byte of the version/cursor
  switch (type) {
    case static_cast<std::uint8_t>(RecordType::kPut): {
      if (fill(kRecordPrefixSize + 2) < kRecordPrefixSize + 2) return torn();
      p = buf_.get() + pos_;
      key_len = load_u16(p + 5);
      std::size_t len_at = kRecordPrefixSize + 2 + key_len;
      if (fill(len_at + 4) < len_at + 4) return torn();
      p = buf_.get() + pos_;
      value_len = load_u32(p + len_at);
      value_at = len_at + 4;
      ver_at = value_at + value_len;
      break;
    }
    case static_cast<std::uint8_t>(RecordType::kDelete): {
      if (fill(kRecordPrefixSize + 2) < kRecordPrefixSize + 2) return torn();
      p = buf_.get() + pos_;
      key_len = load_u16(p + 5);
      ver_at = kRecordPrefixSize + 2 + key_len;
      break;
    }
    case static_cast<std::uint8_t>(RecordType::kCursor): ver_at = kRecordPrefixSize; break;
    default: {
      char reason[48];
      std::snprintf(reason, sizeof(reason), "unknown record type 0x%x", type);
      return fail(Damage::kInvalid, reason);
    }
  }
  if (fill(ver_at + 1) < ver_at + 1) return torn();
  p = buf_.get() + pos_;
  const std::size_t ver_len = static_cast<std::uint8_t>(p[ver_at]);
  if (ver_len > kMaxVersionSize) {
    return fail(Damage::kInvalid, "version length " + std::to_string(ver_len) + " exceeds 10");
  }
  const std::size_t size = ver_at + 1 + ver_len;
  if (fill(size) < size) return torn();
  p = buf_.get() + pos_;

  const std::uint32_t stored = load_u32(p);
  if (checks_ && stored != crc32_ieee(0, p + kCrcSize, size - kCrcSize)) {
    // Near the end of the file a bad CRC is an append cut short by a crash.
    if (fill(size + kTornTailSlack) < size + kTornTailSlack) {
      return fail(Damage::kTornTail, "checksum mismatch in the last record");
    }
    return fail(Damage::kCorrupted, "checksum mismatch");
  }
  std::string_view key;
  if (type != static_cast<std::uint8_t>(RecordType::kCursor)) {
    key = std::string_view(p + kRecordPrefixSize + 2, key_len);
    if (checks_ && !is_valid_utf8(key)) return fail(Damage::kInvalid, "key is not valid UTF-8");
  }

  record->offset = consumed_;
  record->size = static_cast<std::uint32_t>(size);
  record->type = static_cast<RecordType>(type);
  record->key = key;
  record->value = std::string_view(p + value_at, value_len);
  record->version = checks_ ? *VersionToken::from_bytes(std::string_view(p + ver_at + 1, ver_len))
                            : VersionToken();
  record->raw = std::string_view(p, size);
  pos_ += size;
  consumed_ += size;
  return true;
}

}  // namespace slip::snapshot
