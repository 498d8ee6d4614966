// Whole-file operations on PGSS v2 snapshot logs, built on the streaming
// Reader: replay into memory, index, verify, compact, repair.
//
// Damage classes follow the spec: for an invalid or corrupted file nothing
// read from it is trusted (no entries, no cursor); a torn tail keeps every
// record before it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "slip/snapshot_reader.h"
#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::snapshot {

struct LiveValue {
  std::string value;
  VersionToken version;
};

// The live set plus the last cursor, fully in memory: for small folds and
// tests. Large files go through build_index() or verify() instead.
struct State {
  std::map<std::string, LiveValue> entries;  // bytewise key order
  std::optional<VersionToken> cursor;
  Problem problem;
  std::uint64_t records = 0;  // intact records read
};

Result<State> replay(const std::string& path);

struct RecordCounts {
  std::uint64_t put = 0;
  std::uint64_t del = 0;
  std::uint64_t cursor = 0;
  std::uint64_t total() const { return put + del + cursor; }
};

// Where the live value of a key is in the file: values stay on disk.
struct IndexEntry {
  std::uint64_t offset = 0;  // of the PUT record
  std::uint32_t record_size = 0;
  std::uint32_t value_size = 0;
  VersionToken version;
};

// Location of every live key's latest PUT, plus statistics. Memory grows
// with the number of live keys (keys are held, values are not).
struct Index {
  std::unordered_map<std::string, IndexEntry> live;
  std::optional<VersionToken> cursor;
  std::uint64_t cursor_offset = 0;
  std::uint32_t cursor_size = 0;
  RecordCounts counts;
  std::uint64_t file_size = 0;     // bytes on disk
  std::uint64_t intact_bytes = 0;  // header plus intact records
  std::uint64_t live_bytes = 0;    // records of live PUTs plus the last cursor record
  // True when the file is in canonical compacted form: keys strictly
  // ascending, no deletes, at most one cursor and only as the last record,
  // a clean end of file.
  bool canonical = false;
  Problem problem;

  std::uint64_t dead_bytes() const;
  std::vector<std::string> sorted_keys() const;
};

Result<Index> build_index(const std::string& path);

// Reads the value of ENTRY (from build_index of the same, unchanged file).
Result<std::string> read_value(const std::string& path, const IndexEntry& entry);

// The result of checking every record of a file, in bounded memory.
struct VerifyReport {
  Problem problem;
  std::uint64_t records = 0;  // intact records
  std::uint64_t bytes = 0;    // bytes checked: header plus intact records
  std::uint64_t file_size = 0;
  std::uint64_t live_keys = 0;
  std::optional<VersionToken> cursor;
};

// Streams the file once. Live keys are counted without holding keys while
// the file is in ascending key order without deletes (compacted files); a
// file that is not falls back to a set of 64-bit key fingerprints (8-16
// bytes per live key), so the count is exact unless two live keys collide
// in 64 bits.
Result<VerifyReport> verify(const std::string& path);

struct CompactReport {
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
  std::uint64_t live_keys = 0;
  bool rewritten = false;  // false: input was canonical and OUT is the input
  bool torn_tail_dropped = false;
  std::uint64_t torn_tail_offset = 0;
};

// Writes the canonical form of IN to OUT (which may be IN) through
// AtomicFile. Refuses corrupted or invalid input with kCorruption, leaving
// OUT untouched; drops a torn tail. A canonical IN compacted onto itself is
// not rewritten, so it stays byte-identical.
Result<CompactReport> compact(const std::string& in, const std::string& out);

// Truncates the torn tail of PATH at OFFSET (from verify) after copying the
// whole file to BACKUP (skipped when BACKUP is empty). The truncation is
// fsynced.
Status truncate_torn_tail(const std::string& path, std::uint64_t offset, const std::string& backup);

}  // namespace slip::snapshot
