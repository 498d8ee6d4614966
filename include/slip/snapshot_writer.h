// Encoding and appending PGSS v2 records.
//
// The cursor contract (spec: "Writing, and what the cursor means"): data
// records are appended as updates arrive; a CURSOR record is appended only
// by commit_cursor(), after everything before it has been written, and the
// file is flushed (and fsynced when Options::sync) before it returns. So a
// cursor in the file never names a revision whose data is not before it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "slip/snapshot_format.h"
#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::snapshot {

// Appends one encoded record to *OUT. Keys must be valid UTF-8 of at most
// kMaxKeySize bytes and values at most 4 GiB - 1; callers validate.
void encode_header(std::string* out);
void encode_put(std::string* out, std::string_view key, std::string_view value,
                const VersionToken& version);
void encode_delete(std::string* out, std::string_view key, const VersionToken& version);
void encode_cursor(std::string* out, const VersionToken& cursor);

// Checks what encode_put/encode_delete require of a key.
Status validate_key(std::string_view key);

class Writer {
 public:
  struct Options {
    bool sync = false;  // fsync on every commit_cursor()
  };

  // Opens PATH for appending, writing the header when the file is new or
  // empty. An existing file must already be a valid snapshot whose torn
  // tail, if any, has been truncated: the writer does not read it.
  static Result<std::unique_ptr<Writer>> open_append(const std::string& path, Options options);

  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Status put(std::string_view key, std::string_view value, const VersionToken& version);
  Status del(std::string_view key, const VersionToken& version);
  // Appends the CURSOR record and flushes: the only way the cursor moves.
  Status commit_cursor(const VersionToken& cursor);
  // Writes buffered data records without a cursor.
  Status flush();

 private:
  Writer(int fd, std::string path, Options options);
  Status write_buffer();

  int fd_;
  std::string path_;
  Options options_;
  std::string buffer_;
};

}  // namespace slip::snapshot
