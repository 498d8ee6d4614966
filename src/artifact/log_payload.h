// The canonical payload of a log fold file, streamed without replaying the
// file into memory. Internal header.
//
// A log fold is a compacted base (PUTs in ascending key order, as
// compaction, `slip snapshot compact` and `slip import` write it) followed
// by a tail: the commits appended since (PUTs, DELETEs and CURSORs in the
// order they happened). Three passes over the file:
//
//   1. delimit records without checking them, to find where the base's
//      ascending run of PUTs ends;
//   2. fold the tail (checked) into a map: the keys it changes, the last
//      cursor;
//   3. stream the base (checked), each record's bytes as they are unless
//      the tail changed its key, merged in key order with the tail's keys.
//
// Memory is the tail's map, which a mirror bounds by compacting once dead
// records pass its threshold; a canonical file (all base) needs none. The
// result is byte for byte what replaying the file and writing its state in
// canonical form gives (the spec's replay rules: every record counts, the
// last cursor is the cursor).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "artifact/codec.h"
#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::artifact {

struct LogPayload {
  std::uint64_t entries = 0;  // PUTs written
  VersionToken cursor;        // the file's last cursor
};

// Writes the canonical PGSS v2 form of the log file at PATH, narrowed to
// keys under PREFIXES (empty: every key), to SINK in chunks of about 1 MiB;
// ENTRIES_DONE (may be empty) hears the running count. The caller holds the
// fold's lock. The file is opened once: every pass reads the same file.
// kNotSupported: the file is damaged, has no cursor, or changed between
// passes; open the store instead (it repairs a torn tail, refuses
// corruption, says a fold without a cursor has nothing to export).
//
// ASSUME_CANONICAL skips passes 1 and 2 and passes the file through,
// checking that it is canonical as it goes; kCheckFailed when it is not
// (or has no cursor), after part of the output went to SINK: start again
// without it.
Result<LogPayload> emit_log_payload(const std::string& path,
                                    const std::vector<std::string>& prefixes, const Sink& sink,
                                    const std::function<void(std::uint64_t)>& entries_done,
                                    bool assume_canonical);

// A cheap look at the last 4 MiB of the log file at PATH: true when it holds
// a CURSOR record before the last one, so commits were appended after the
// base and the file is not canonical. false proves nothing (a file whose
// last commit is larger, or one never compacted).
bool has_recent_commits(const std::string& path);

}  // namespace slip::artifact
