// Thin, Status-returning wrappers over POSIX file calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "slip/status.h"

namespace slip::fs {

// write(2) until LEN bytes are written, retrying on EINTR.
Status write_all(int fd, const void* data, std::size_t len, const std::string& name);

// pread(2) exactly LEN bytes at OFFSET; a short read is an I/O error.
Status pread_all(int fd, void* data, std::size_t len, std::uint64_t offset,
                 const std::string& name);

// Starts writing back a file as it grows, so that the fsync that makes it
// durable at the end has little left to wait for: call written() with the
// file's size after each write. A hint only (sync_file_range): errors
// surface in that fsync.
class Writeback {
 public:
  explicit Writeback(int fd) : fd_(fd) {}
  void written(std::uint64_t size);

 private:
  static constexpr std::uint64_t kStep = 8 << 20;
  int fd_;
  std::uint64_t started_ = 0;  // bytes whose writeback has been started
};

// fsync the directory holding PATH, so that a rename in it is durable.
Status fsync_parent_dir(const std::string& path);

std::string dirname_of(const std::string& path);
std::string basename_of(const std::string& path);

}  // namespace slip::fs
