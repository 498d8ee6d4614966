// Streaming reader for PGSS v2 snapshot logs.
//
// The reader reports; it does not decide. It hands out every intact record
// with its byte offset and stops at the first problem, which it classifies
// exactly as the spec does (invalid / torn tail / corrupted) with the offset
// of the record where it happened. Whether a problem is fatal is the
// caller's decision: `verify` prints it, a mirror truncates a torn tail.
//
// Memory: one read buffer (grown only to hold the largest record), never
// the whole file. Not thread-safe; one reader per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "slip/snapshot_format.h"
#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::snapshot {

enum class Damage { kNone, kInvalid, kTornTail, kCorrupted };

// "ok", "invalid", "torn_tail", "corrupted": the spec's names, used in JSON.
const char* damage_name(Damage damage);

struct Problem {
  Damage damage = Damage::kNone;
  std::uint64_t offset = 0;  // of the failing record (0 for a bad header)
  std::string reason;        // one line, e.g. "unknown record type 0x7"
};

// One intact record. The views point into the reader's buffer and stay
// valid only until the next call to Reader::next().
struct Record {
  std::uint64_t offset = 0;  // of the CRC field
  std::uint32_t size = 0;    // encoded bytes, CRC included
  RecordType type = RecordType::kPut;
  std::string_view key;    // PUT and DELETE
  std::string_view value;  // PUT
  VersionToken version;    // the version of PUT/DELETE, the cursor of CURSOR
  std::string_view raw;    // the whole encoded record, CRC included
};

class Reader {
 public:
  // Opens PATH. I/O failures (missing, a directory, no permission) are
  // returned as a Status; a file that opens but is not a valid snapshot is
  // not an error here: problem() reports it and next() returns false.
  static Result<std::unique_ptr<Reader>> open(const std::string& path);

  // Reads from FD, which the reader owns and closes.
  static Result<std::unique_ptr<Reader>> from_fd(int fd, std::string name);

  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Advances to the next intact record. Returns false at a clean end of
  // file or at the first problem (see problem()); I/O errors during reading
  // are reported through io_status().
  bool next(Record* record);

  // With checks off the reader only delimits records: no CRC, UTF-8 or
  // version check, and record.version is left empty. For a quick first
  // pass that looks for record boundaries in a file whose records a later
  // pass checks.
  void set_checks(bool on) { checks_ = on; }

  // Hands every byte read from the file to TAP, in file order and as it is
  // read, before next() checks it: the header and what is already buffered
  // at once, so call it before the first next(). A failing TAP ends
  // reading: next() returns false and io_status() is TAP's Status.
  using Tap = std::function<Status(const char* data, std::size_t size)>;
  Status set_tap(Tap tap);

  // Continues at OFFSET of a regular file, which must be a record boundary
  // (one a previous pass handed out).
  Status seek(std::uint64_t offset);

  const Problem& problem() const { return problem_; }
  const Status& io_status() const { return io_status_; }
  std::uint16_t format_version() const { return format_version_; }
  // Bytes of intact content consumed so far: the header plus every record
  // handed out. At a clean end this is the file size.
  std::uint64_t bytes_consumed() const { return consumed_; }
  const std::string& name() const { return name_; }

 private:
  Reader(int fd, std::string name);
  void read_header();
  // Makes at least N bytes available from pos_, reading more as needed.
  // Returns the number available (less than N only at end of file).
  std::size_t fill(std::size_t n);
  bool fail(Damage damage, std::string reason);

  int fd_;
  std::string name_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t pos_ = 0;  // start of unread bytes in buf_
  std::size_t end_ = 0;  // end of valid bytes in buf_
  bool eof_ = false;
  bool is_regular_ = false;
  bool checks_ = true;
  Tap tap_;
  std::uint64_t consumed_ = 0;  // file offset of buf_[pos_]
  std::uint16_t format_version_ = 0;
  Problem problem_;
  Status io_status_;
};

}  // namespace slip::snapshot
