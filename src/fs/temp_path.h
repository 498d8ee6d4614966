// Temporary files and directories: a scratch payload in $TMPDIR, a staging
// directory beside an import's destination. Their owners remove them when
// they go out of scope, but slip's exits by signal (import and diff on the
// first SIGINT/SIGTERM, every command on the second) are _exit(), which
// runs no destructor: the signal handlers first call
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
// Async-signal-safe; for the exits by signal.
void remove_temp_paths_now();

// Holds off an exit by signal while it lives, for a step that must not be
// left half-done (an import swapping the old fold for the new one: between
// its two renames the destination is empty). A signal that would exit
// meanwhile is raised again when the last such guard ends.
class DeferSignalExit {
 public:
  DeferSignalExit();
  ~DeferSignalExit();
  DeferSignalExit(const DeferSignalExit&) = delete;
  DeferSignalExit& operator=(const DeferSignalExit&) = delete;
};

// For the handlers, before they exit: true inside a DeferSignalExit, and
// SIG is then raised again at its end. Async-signal-safe.
bool defer_signal_exit(int sig);

}  // namespace slip::fs
