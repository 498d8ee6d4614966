#include "watch/cursor_file.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/time_format.h"
#include "slip/atomic_file.h"

namespace slip::watch {

namespace {

constexpr std::string_view kStreamCreated = "stream_created=";
// A cursor file is two short lines: anything much larger is not one.
constexpr std::streamsize kMaxSize = 4096;

void trim(std::string* s) {
  while (!s->empty() && (s->back() == ' ' || s->back() == '\r')) s->pop_back();
}

}  // namespace

Result<std::optional<std::uint64_t>> CursorFile::load() {
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::uint64_t>();
    return Status::from_errno(errno, "open cursor file " + path_);
  }
  auto damaged = [&] {
    return Status::corruption("cursor file " + path_ +
                              " does not hold a revision number; remove it to start over");
  };
  std::string text(static_cast<std::size_t>(kMaxSize) + 1, '\0');
  in.read(text.data(), kMaxSize + 1);
  if (in.gcount() > kMaxSize) return damaged();
  text.resize(static_cast<std::size_t>(in.gcount()));
  std::istringstream lines(text);
  std::string first;
  std::getline(lines, first);
  trim(&first);
  if (first.empty()) {
    // Empty, or blank: no cursor yet (a file created to be filled).
    if (text.find_first_not_of(" \r\n") == std::string::npos) return std::optional<std::uint64_t>();
    return damaged();
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(first.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || first[0] == '-' || first[0] == '+')
    return damaged();
  stream_created_ns_ = 0;
  for (std::string line; std::getline(lines, line);) {
    trim(&line);
    if (line.rfind(kStreamCreated, 0) != 0) continue;
    auto ns = parse_rfc3339(std::string_view(line).substr(kStreamCreated.size()));
    if (!ns) {
      return Status::corruption("cursor file " + path_ + ": '" + line.substr(0, 80) +
                                "' is not a time; remove the line to adopt the bucket's stream");
    }
    stream_created_ns_ = *ns;
  }
  return std::optional<std::uint64_t>(v);
}

Status CursorFile::commit(std::uint64_t cursor) {
  auto file = AtomicFile::create(path_);
  if (!file) return file.status();
  std::string text = std::to_string(cursor) + "\n";
  if (stream_created_ns_ != 0)
    text += std::string(kStreamCreated) + format_rfc3339(stream_created_ns_) + "\n";
  SLIP_RETURN_IF_ERROR((*file)->write(text));
  return (*file)->commit();
}

}  // namespace slip::watch
