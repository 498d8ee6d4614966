// A cursor kept in a small text file, replaced atomically on every commit:
//
//   1234
//   stream_created=2026-12-04T10:00:00.123456789Z
//
// The first line is the revision in decimal (what `head -1` gives a
// script); the second names the stream the revision belongs to (its
// creation time, stream info "created"), so that a bucket deleted and
// created again under the same name is not resumed as if it were the same
// one. A file of one line (written by an older slip) has no stream; lines
// that follow and are not known are ignored.
#pragma once

#include <cstdint>
#include <string>

#include "slip/watch.h"

namespace slip::watch {

class CursorFile final : public CursorStore {
 public:
  explicit CursorFile(std::string path) : path_(std::move(path)) {}
  Result<std::optional<std::uint64_t>> load() override;
  Status commit(std::uint64_t cursor) override;

  // The stream the loaded cursor belongs to (0: not recorded), and the one
  // the next commits record.
  std::int64_t stream_created_ns() const { return stream_created_ns_; }
  void set_stream_created_ns(std::int64_t ns) { stream_created_ns_ = ns; }

 private:
  std::string path_;
  std::int64_t stream_created_ns_ = 0;
};

}  // namespace slip::watch
