#include "core/time_format.h"

#include <chrono>
#include <limits>

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

std::optional<std::int64_t> parse_rfc3339(std::string_view t) {
  using namespace std::chrono;
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > t.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  auto h = digits(11, 2), mi = digits(14, 2), s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)),
                           day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::size_t at = 19;
  std::int64_t nanos = 0;
  if (at < t.size() && t[at] == '.') {
    int n = 0;
    for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at, ++n) {
      if (n < 9) nanos = nanos * 10 + (t[at] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) nanos *= 10;
  }
  std::int64_t offset = 0;
  if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) {
    ++at;
  } else if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
    auto oh = digits(at + 1, 2), om = digits(at + 4, 2);
    if (!oh || !om || t[at + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset = (t[at] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != t.size()) return std::nullopt;
  const std::int64_t secs = sys_days(ymd).time_since_epoch().count() * 86400 + *h * 3600 +
                            *mi * 60 + *s - offset;
  // Nanoseconds since the epoch fit in 64 bits from 1677 to 2262 only.
  if (secs <= std::numeric_limits<std::int64_t>::min() / 1000000000 ||
      secs >= std::numeric_limits<std::int64_t>::max() / 1000000000) {
    return std::nullopt;
  }
  return secs * 1000000000 + nanos;
}

}  // namespace slip
