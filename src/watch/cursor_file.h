// A cursor kept in a small text file: the revision in decimal and a
// newline, replaced atomically on every commit.
#pragma once

#include <string>

#include "slip/watch.h"

namespace slip::watch {

class CursorFile final : public CursorStore {
 public:
  explicit CursorFile(std::string path) : path_(std::move(path)) {}
  Result<std::optional<std::uint64_t>> load() override;
  Status commit(std::uint64_t cursor) override;

 private:
  std::string path_;
};

}  // namespace slip::watch
