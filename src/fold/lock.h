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
  // The lock of the fold at FOLD_PATH with BACKEND ("log": PATH.lock beside
  // the file; "leveldb": slip.lock inside the directory): what its store
  // takes when opened, for those that read or replace the fold without it.
  static Result<std::unique_ptr<FileLock>> acquire_fold(const std::string& fold_path,
                                                        const std::string& backend);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace slip::fold
