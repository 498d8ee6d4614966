#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/io.h"
#include "slip/snapshot_writer.h"

namespace slip::snapshot {

namespace {
// Data records are buffered up to this size before a write(2).
constexpr std::size_t kFlushThreshold = 1 << 20;
}  // namespace

Result<std::unique_ptr<Writer>> Writer::open_append(const std::string& path, Options options) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  std::unique_ptr<Writer> writer(new Writer(fd, path, options));
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::from_errno(errno, "stat " + path);
  if (st.st_size == 0) encode_header(&writer->buffer_);
  return writer;
}

Writer::Writer(int fd, std::string path, Options options)
    : fd_(fd), path_(std::move(path)), options_(options) {}

Writer::~Writer() {
  // Unflushed data records are dropped on purpose: without a cursor after
  // them they would be re-delivered anyway, and a destructor cannot report.
  if (fd_ >= 0) ::close(fd_);
}

Status Writer::write_buffer() {
  SLIP_RETURN_IF_ERROR(fs::write_all(fd_, buffer_.data(), buffer_.size(), path_));
  buffer_.clear();
  return Status::ok();
}

Status Writer::put(std::string_view key, std::string_view value, const VersionToken& version) {
  SLIP_RETURN_IF_ERROR(validate_key(key));
  encode_put(&buffer_, key, value, version);
  if (buffer_.size() >= kFlushThreshold) return write_buffer();
  return Status::ok();
}

Status Writer::del(std::string_view key, const VersionToken& version) {
  SLIP_RETURN_IF_ERROR(validate_key(key));
  encode_delete(&buffer_, key, version);
  if (buffer_.size() >= kFlushThreshold) return write_buffer();
  return Status::ok();
}

Status Writer::commit_cursor(const VersionToken& cursor) {
  encode_cursor(&buffer_, cursor);
  SLIP_RETURN_IF_ERROR(write_buffer());
  if (options_.sync && ::fdatasync(fd_) != 0) return Status::from_errno(errno, "fsync " + path_);
  return Status::ok();
}

Status Writer::flush() { return write_buffer(); }

}  // namespace slip::snapshot
