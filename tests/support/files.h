// Test helpers for files: a temporary directory removed at scope exit, and
// whole-file read/write for damaging snapshots on purpose.
#pragma once

#include <string>

namespace slip::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);
bool file_exists(const std::string& path);

// The directory of the shared snapshot fixtures (../shared/spec/fixtures).
std::string fixture_dir();

}  // namespace slip::test
