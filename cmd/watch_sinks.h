// The two sinks of `slip watch`: standard output, and a user's command.
#pragma once

#include <cstdint>
#include <string>

#include "output.h"
#include "slip/watch.h"

namespace slip::cli {

// Formats each update (json, text or value) and writes the batch to
// standard output; apply() returns once it is flushed.
class PrintSink final : public watch::UpdateSink {
 public:
  PrintSink(Output& out, std::string format) : out_(out), format_(std::move(format)) {}
  Status apply(const std::vector<kv::Entry>& batch) override;
  // The RESET line (json and text formats; value has no place for it).
  Status reset(std::uint64_t expired_cursor);

 private:
  Output& out_;
  std::string format_;
  bool stdout_checked_ = false;
  bool stdout_is_file_ = false;
};

// Runs COMMAND (through /bin/sh -c) once per batch with the batch as JSON
// lines on its standard input; apply() succeeds only when it exits 0.
class ExecSink final : public watch::UpdateSink {
 public:
  explicit ExecSink(std::string command) : command_(std::move(command)) {}
  Status apply(const std::vector<kv::Entry>& batch) override;
  // Runs the command once with the RESET line alone.
  Status reset(std::uint64_t expired_cursor);

 private:
  // Runs the command with INPUT on its standard input; WHAT names the input
  // in the error when it does not exit 0.
  Status run(const std::string& input, const std::string& what);

  std::string command_;
};

// The line (no newline) that tells a consumer to drop what it holds: the
// updates after EXPIRED_CURSOR are gone from the bucket, and its whole
// current state follows. {"op":"RESET","expired_cursor":N}
std::string reset_json(std::uint64_t expired_cursor);

// One JSON line (no newline) for an update: op, key, revision, created,
// and value or value_b64 for PUTs.
std::string update_json(const kv::Entry& e);
// The same line appended to OUT: the per-update path of PrintSink and ExecSink.
void append_update_json(std::string* out, const kv::Entry& e);

}  // namespace slip::cli
