#include "core/time_format.h"

#include <chrono>

namespace slip {

namespace {

// Writes the WIDTH low decimal digits of V, zero-padded, ending before END.
void put_digits(char* end, unsigned long v, int width) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

std::int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Calendar arithmetic from <chrono> rather than gmtime_r + snprintf: watch
// formats one timestamp per update, and gmtime_r takes glibc's timezone
// lock and snprintf parses its format each time. An int64 of nanoseconds
// spans the years 1677-2262, so the year always has four digits.
void append_rfc3339(std::string* out, std::int64_t unix_ns) {
  using namespace std::chrono;
  std::int64_t secs = unix_ns / 1000000000;
  std::int64_t nanos = unix_ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  const sys_days day = floor<days>(sys_seconds(seconds(secs)));
  const year_month_day ymd(day);
  const std::int64_t in_day = secs - day.time_since_epoch().count() * 86400;
  char buf[30];  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
  put_digits(buf + 4, static_cast<unsigned long>(static_cast<int>(ymd.year())), 4);
  buf[4] = '-';
  put_digits(buf + 7, static_cast<unsigned>(ymd.month()), 2);
  buf[7] = '-';
  put_digits(buf + 10, static_cast<unsigned>(ymd.day()), 2);
  buf[10] = 'T';
  put_digits(buf + 13, static_cast<unsigned long>(in_day / 3600), 2);
  buf[13] = ':';
  put_digits(buf + 16, static_cast<unsigned long>(in_day / 60 % 60), 2);
  buf[16] = ':';
  put_digits(buf + 19, static_cast<unsigned long>(in_day % 60), 2);
  buf[19] = '.';
  put_digits(buf + 29, static_cast<unsigned long>(nanos), 9);
  buf[29] = 'Z';
  out->append(buf, sizeof(buf));
}

std::string format_rfc3339(std::int64_t unix_ns) {
  std::string out;
  append_rfc3339(&out, unix_ns);
  return out;
}

}  // namespace slip
