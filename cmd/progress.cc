#include "progress.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace slip::cli {

namespace {

std::string amount(ProgressBar::Unit unit, double n) {
  char buf[32];
  if (unit == ProgressBar::Unit::kItems) {
    std::snprintf(buf, sizeof(buf), "%.0f", n);
    return buf;
  }
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int i = 0;
  while (n >= 1000 && i < 4) n /= 1000, ++i;
  std::snprintf(buf, sizeof(buf), i == 0 ? "%.0f %s" : "%.1f %s", n, units[i]);
  return buf;
}

std::string duration(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%.0fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(s) / 3600,
                  static_cast<int>(s) % 3600 / 60);
  }
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, Unit unit, bool enabled, std::FILE* out)
    : label_(std::move(label)),
      unit_(unit),
      enabled_(enabled),
      out_(out),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::wanted(std::FILE* out) {
  const char* term = std::getenv("TERM");
  return ::isatty(::fileno(out)) && !(term && std::strcmp(term, "dumb") == 0);
}

std::string ProgressBar::render(const std::string& label, Unit unit, std::uint64_t done,
                                std::uint64_t total, double seconds) {
  std::string line = label;
  if (total > 0) {
    const int width = 24;
    const double f = done >= total ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    const int filled = static_cast<int>(f * width);
    line += "  [" + std::string(filled, '#') + std::string(width - filled, ' ') + "]";
    line += "  " + amount(unit, done) + " / " + amount(unit, total);
  } else {
    line += "  " + amount(unit, done);
  }
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  if (rate > 0) line += "  " + amount(unit, rate) + "/s";
  if (total > 0 && rate > 0 && done < total) {
    line += "  ETA " + duration(static_cast<double>(total - done) / rate);
  }
  return line;
}

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  if (!enabled_ || finished_) return;  // a finished bar stays finished
  done_ = done;
  total_ = total;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::draw(bool final) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // \r and clear-to-end-of-line: a cursor movement, not a color.
  std::fprintf(out_, "\r%s\x1b[K%s", render(label_, unit_, done_, total_, seconds).c_str(),
               final ? "\n" : "");
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!enabled_ || !drawn_ || finished_) return;
  std::fprintf(out_, "\r\x1b[K");
  std::fflush(out_);
  drawn_ = false;
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_ && drawn_) draw(true);
}

}  // namespace slip::cli
