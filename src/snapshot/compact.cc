#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/io.h"
#include "slip/atomic_file.h"
#include "slip/snapshot.h"
#include "slip/snapshot_writer.h"

namespace slip::snapshot {

namespace {

// Closes a file descriptor at scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

Result<CompactReport> compact(const std::string& in, const std::string& out) {
  auto index = build_index(in);
  if (!index) return index.status();
  const Problem& problem = index->problem;
  if (problem.damage == Damage::kInvalid || problem.damage == Damage::kCorrupted) {
    return Status::corruption(in + ": " + damage_name(problem.damage) + " at offset " +
                              std::to_string(problem.offset) + ": " + problem.reason +
                              "; refusing to compact (run 'slip snapshot verify')");
  }
  CompactReport report;
  report.bytes_before = index->file_size;
  report.live_keys = index->live.size();
  report.torn_tail_dropped = problem.damage == Damage::kTornTail;
  report.torn_tail_offset = problem.offset;
  if (index->canonical && same_file(in, out)) {
    report.bytes_after = report.bytes_before;
    return report;
  }

  int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + in);
  FdCloser closer{fd};
  auto file = AtomicFile::create(out);
  if (!file) return file.status();
  std::string buf;
  encode_header(&buf);
  SLIP_RETURN_IF_ERROR((*file)->write(buf));
  // The canonical encoding of a PUT depends only on its key, value and
  // version, so the live records are copied byte for byte.
  for (const std::string& key : index->sorted_keys()) {
    const IndexEntry& entry = index->live.at(key);
    buf.resize(entry.record_size);
    SLIP_RETURN_IF_ERROR(fs::pread_all(fd, buf.data(), buf.size(), entry.offset, in));
    SLIP_RETURN_IF_ERROR((*file)->write(buf));
  }
  if (index->cursor) {
    buf.clear();
    encode_cursor(&buf, *index->cursor);
    SLIP_RETURN_IF_ERROR((*file)->write(buf));
  }
  report.bytes_after = (*file)->bytes_written();
  SLIP_RETURN_IF_ERROR((*file)->commit());
  report.rewritten = true;
  return report;
}

Status truncate_torn_tail(const std::string& path, std::uint64_t offset,
                          const std::string& backup) {
  if (!backup.empty()) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::from_errno(errno, "open " + path);
    FdCloser closer{fd};
    auto copy = AtomicFile::create(backup);
    if (!copy) return copy.status();
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::from_errno(errno, "read " + path);
      }
      if (n == 0) break;
      SLIP_RETURN_IF_ERROR(
          (*copy)->write(std::string_view(buf.data(), static_cast<std::size_t>(n))));
    }
    SLIP_RETURN_IF_ERROR((*copy)->commit());
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  FdCloser closer{fd};
  if (::ftruncate(fd, static_cast<off_t>(offset)) != 0)
    return Status::from_errno(errno, "truncate " + path);
  if (::fsync(fd) != 0) return Status::from_errno(errno, "fsync " + path);
  return Status::ok();
}

}  // namespace slip::snapshot
