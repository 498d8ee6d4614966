#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace slip::cli {

namespace {

// 1234567 -> "1,234,567"
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string duration_text(std::uint64_t seconds) {
  char buf[32];
  if (seconds >= 3600) {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(seconds / 3600),
                  static_cast<unsigned long long>(seconds / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(seconds / 60),
                  static_cast<unsigned long long>(seconds % 60));
  }
  return buf;
}

}  // namespace

bool stderr_is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

ProgressBar::ProgressBar(std::string label, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      enabled_(enabled && stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::uint64_t done, std::optional<std::uint64_t> left) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_width_ > 0 && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done, left);
}

void ProgressBar::draw(std::uint64_t done, std::optional<std::uint64_t> left) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? done / seconds : 0;
  std::string line = label_ + " " + grouped(done) + " " + unit_;
  if (seconds >= 0.5) line += "  " + grouped(static_cast<std::uint64_t>(rate)) + "/s";
  if (left) {
    line += "  " + grouped(*left) + " left";
    if (rate > 0) line += "  ETA " + duration_text(static_cast<std::uint64_t>(*left / rate));
  }
  const std::size_t width = line.size();
  if (width < drawn_width_) line.append(drawn_width_ - width, ' ');  // cover the old line
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
  drawn_width_ = width;
}

void ProgressBar::clear() {
  if (!enabled_ || drawn_width_ == 0) return;
  std::fprintf(stderr, "\r%s\r", std::string(drawn_width_, ' ').c_str());
  std::fflush(stderr);
  drawn_width_ = 0;
}

void ProgressBar::finish() {
  clear();
  enabled_ = false;
}

}  // namespace slip::cli
