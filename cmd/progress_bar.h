// A one-line progress display on stderr, for people at a terminal: done,
// rate, what is left and an ETA. It draws only when stderr is a TTY (never
// into a pipe or a log file) and redraws at most ten times a second. It
// uses no colour or cursor escapes beyond a carriage return, so NO_COLOR
// and dumb terminals are respected as they are.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace slip::cli {

class ProgressBar {
 public:
  // UNIT names what is counted ("updates", "bytes"). ENABLED false: the bar
  // never draws (--no-progress, JSON logs on stderr).
  ProgressBar(std::string label, std::string unit, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // DONE so far; LEFT is what remains when known (gives the ETA).
  void update(std::uint64_t done, std::optional<std::uint64_t> left);
  // Erases the line so a log line can be printed; the next update redraws.
  void clear();
  // Erases the line; later updates draw nothing.
  void finish();

  bool active() const { return enabled_; }

 private:
  void draw(std::uint64_t done, std::optional<std::uint64_t> left);

  std::string label_;
  std::string unit_;
  bool enabled_;
  std::size_t drawn_width_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// True when stderr is a terminal a progress bar may draw on.
bool stderr_is_terminal();

}  // namespace slip::cli
