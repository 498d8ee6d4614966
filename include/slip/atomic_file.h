// The one way slip replaces a file: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
// A reader sees either the old file or the complete new one, never a part.
//
// Temporary files are named ".<target>.slip-tmp.<pid>.<n>". If the process
// dies before commit(), the temporary stays behind; the next AtomicFile for
// the same target removes leftovers whose writing process is gone.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "slip/status.h"

namespace slip {

class AtomicFile {
 public:
  // Creates the temporary file for TARGET (mode 0644 unless TARGET exists,
  // whose mode is kept).
  static Result<std::unique_ptr<AtomicFile>> create(const std::string& target);

  // Removes the temporary unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status write(std::string_view data);  // buffered
  // Flushes, fsyncs, renames over the target and fsyncs the directory.
  Status commit();

  const std::string& temp_path() const { return temp_path_; }
  std::uint64_t bytes_written() const { return written_; }

 private:
  AtomicFile(int fd, std::string target, std::string temp);
  Status flush_buffer();

  int fd_;
  std::string target_;
  std::string temp_path_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

// Removes the leftover temporaries of TARGET whose writer no longer runs.
// Returns how many were removed.
int remove_stale_temps(const std::string& target);

}  // namespace slip
