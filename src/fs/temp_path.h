// Temporary files and directories: a scratch payload in $TMPDIR, a staging
// directory beside an import's destination. Their owners remove them when
// they go out of scope, but slip's exit on a second SIGINT/SIGTERM is
// _exit(), which runs no destructor: the signal handler first calls
// remove_temp_paths_now(), so an interrupted export does not leave a
// payload of gigabytes behind. (A SIGKILL or a crash still does; file://
// staging removes its stale files after a day.)
#pragma once

#include <string>

namespace slip::fs {

// Removes PATH (a file, or a directory with what it holds) when it goes out
// of scope, unless released; while it lives, remove_temp_paths_now() removes
// it too. PATH need not exist yet.
class TempPath {
 public:
  TempPath() = default;
  explicit TempPath(std::string path);
  ~TempPath();
  TempPath(TempPath&& other) noexcept;
  TempPath& operator=(TempPath&& other) noexcept;
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;

  const std::string& path() const { return path_; }
  // Keeps the path (it was renamed into place, or handed on): neither the
  // destructor nor remove_temp_paths_now() will remove it.
  void release();

 private:
  std::string path_;
  int slot_ = -1;  // in the registry; -1: not registered (empty, or it was full)
};

// Removes every live TempPath's file or directory (a directory's own
// entries, one level: scratch folds and staging directories are flat).
// Async-signal-safe; for the second-signal exit.
void remove_temp_paths_now();

}  // namespace slip::fs
