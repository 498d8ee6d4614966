#include "watch/cursor_file.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "slip/atomic_file.h"

namespace slip::watch {

Result<std::optional<std::uint64_t>> CursorFile::load() {
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::uint64_t>();
    return Status::from_errno(errno, "open cursor file " + path_);
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return std::optional<std::uint64_t>();
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || s[0] == '-') {
    return Status::corruption("cursor file " + path_ +
                              " does not hold a revision number; remove it to start over");
  }
  return std::optional<std::uint64_t>(v);
}

Status CursorFile::commit(std::uint64_t cursor) {
  auto file = AtomicFile::create(path_);
  if (!file) return file.status();
  SLIP_RETURN_IF_ERROR((*file)->write(std::to_string(cursor) + "\n"));
  return (*file)->commit();
}

}  // namespace slip::watch
