// A progress bar on standard error, for long transfers and restores.
//
// Drawn only when stderr is a terminal (never into logs or pipes), redrawn
// at most ten times a second, plain characters only (so NO_COLOR holds
// trivially). One line: label, bar, done/total, rate, ETA. A total of 0
// means unknown: no bar and no ETA. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace slip::cli {

class ProgressBar {
 public:
  enum class Unit { kBytes, kItems };

  // ENABLED: draw at all (callers pass is_terminal(stderr) unless tests
  // force it).
  ProgressBar(std::string label, Unit unit, bool enabled, std::FILE* out = stderr);
  ~ProgressBar();  // finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::uint64_t done, std::uint64_t total);
  // Erases the line so that a log line can be printed; the next update
  // draws again.
  void clear();
  // Draws the final state and ends the line (once).
  void finish();

  // The text of one frame, for tests: "upload  [#####     ]  5.0 MB / 10.0 MB  2.0 MB/s  ETA 3s".
  static std::string render(const std::string& label, Unit unit, std::uint64_t done,
                            std::uint64_t total, double seconds);

  // Whether progress should be drawn on OUT: a terminal, and TERM not "dumb".
  static bool wanted(std::FILE* out = stderr);

 private:
  void draw(bool final);

  std::string label_;
  Unit unit_;
  bool enabled_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace slip::cli
