// An exclusive advisory lock on a file, held for the lifetime of the
// object: two processes must never write the same fold.
#pragma once

#include <memory>
#include <string>

#include "slip/status.h"

namespace slip::fold {

class FileLock {
 public:
  // Locks PATH (created if absent) without waiting; a held lock is kIOError
  // naming the holder's PID when it can be read.
  static Result<std::unique_ptr<FileLock>> acquire(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace slip::fold
