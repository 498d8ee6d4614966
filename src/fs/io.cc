#include "fs/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace slip::fs {

Status write_all(int fd, const void* data, std::size_t len, const std::string& name) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "write " + name);
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status pread_all(int fd, void* data, std::size_t len, std::uint64_t offset,
                 const std::string& name) {
  char* p = static_cast<char*>(data);
  while (len > 0) {
    ssize_t n = ::pread(fd, p, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "read " + name);
    }
    if (n == 0) return Status::io_error("read " + name + ": file shrank while reading");
    p += n;
    len -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return Status::ok();
}

std::string dirname_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void Writeback::written(std::uint64_t size) {
  if (size < started_ + kStep) return;
  (void)::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(size - started_),
                          SYNC_FILE_RANGE_WRITE);
  started_ = size;
}

Status fsync_parent_dir(const std::string& path) {
  std::string dir = dirname_of(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open directory " + dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::from_errno(err, "fsync directory " + dir);
  return Status::ok();
}

}  // namespace slip::fs
