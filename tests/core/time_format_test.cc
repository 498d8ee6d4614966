#include <doctest/doctest.h>

#include "core/time_format.h"

namespace slip {
namespace {

TEST_CASE("parse_rfc3339 reads what format_rfc3339 writes, to the nanosecond") {
  const std::int64_t t = 1'780'000'000'123'456'789;
  CHECK(parse_rfc3339(format_rfc3339(t)) == t);
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2026-12-04T10:00:00.5+01:00") == parse_rfc3339("2026-12-04T09:00:00.5Z"));
}

TEST_CASE("parse_rfc3339 refuses what is out of range rather than wrapping") {
  // Beyond what 64-bit nanoseconds since the epoch hold (1677 to 2262).
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59Z"));
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-12-04T10:00:00+24:00"));
  CHECK_FALSE(parse_rfc3339("2026-12-04T10:00:00+01:60"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T10:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-12-04T24:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-12-04T10:00:00"));
  CHECK_FALSE(parse_rfc3339("2026-12-04"));
  CHECK(parse_rfc3339("2262-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace slip
