#include <doctest/doctest.h>

#include <cerrno>

#include "slip/exit_codes.h"
#include "slip/status.h"

using slip::Status;
namespace ec = slip::exit_code;

TEST_CASE("status: each kind maps to its documented exit code") {
  CHECK(slip::exit_code_for(Status::ok()) == ec::kOk);
  CHECK(slip::exit_code_for(Status::pipe_closed()) == ec::kOk);
  CHECK(slip::exit_code_for(Status::not_found("k")) == ec::kNegative);
  CHECK(slip::exit_code_for(Status::conflict("cas")) == ec::kNegative);
  CHECK(slip::exit_code_for(Status::check_failed("diff")) == ec::kNegative);
  CHECK(slip::exit_code_for(Status::invalid_argument("x")) == ec::kUsage);
  CHECK(slip::exit_code_for(Status::corruption("x")) == ec::kDamaged);
  CHECK(slip::exit_code_for(Status::io_error("x")) == ec::kUnavailable);
  CHECK(slip::exit_code_for(Status::unavailable("x")) == ec::kUnavailable);
  CHECK(slip::exit_code_for(Status::interrupted("x")) == ec::kInterrupted);
}

TEST_CASE("status: errno classification and context") {
  CHECK(Status::from_errno(ENOENT, "open a").kind() == slip::StatusKind::kInvalidArgument);
  CHECK(Status::from_errno(EACCES, "open a").kind() == slip::StatusKind::kIOError);
  CHECK(Status::from_errno(ENOSPC, "write a").kind() == slip::StatusKind::kIOError);
  CHECK(Status::from_errno(EPIPE, "write").kind() == slip::StatusKind::kPipeClosed);
  Status s = Status::corruption("bad magic").with_context("a.snap");
  CHECK(s.message() == "a.snap: bad magic");
  CHECK(s.to_string() == "Corruption: a.snap: bad magic");
  CHECK(Status::ok().with_context("x").is_ok());
}

TEST_CASE("status: Result carries a value or a status") {
  slip::Result<int> good = 7;
  CHECK(good.is_ok());
  CHECK(*good == 7);
  slip::Result<int> bad = Status::not_found("nope");
  CHECK_FALSE(bad.is_ok());
  CHECK(bad.status().kind() == slip::StatusKind::kNotFound);
}
