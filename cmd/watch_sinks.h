// The two sinks of `slip watch`: standard output, and a user's command.
#pragma once

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

 private:
  std::string command_;
};

// One JSON line (no newline) for an update: op, key, revision, created,
// and value or value_b64 for PUTs.
std::string update_json(const kv::Entry& e);
// The same line appended to OUT: the per-update path of PrintSink and ExecSink.
void append_update_json(std::string* out, const kv::Entry& e);

}  // namespace slip::cli
