#include "slip/status.h"

#include <cerrno>
#include <cstring>

#include "slip/exit_codes.h"

namespace slip {

Status Status::from_errno(int err, std::string_view what) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG: return invalid_argument(std::move(msg));
    case EPIPE: return pipe_closed();
    default: return io_error(std::move(msg));
  }
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  return Status(kind_, std::string(context) + ": " + message_);
}

std::string Status::to_string() const {
  const char* name = "OK";
  switch (kind_) {
    case StatusKind::kOk: return "OK";
    case StatusKind::kNotFound: name = "NotFound"; break;
    case StatusKind::kConflict: name = "Conflict"; break;
    case StatusKind::kCursorExpired: name = "CursorExpired"; break;
    case StatusKind::kCheckFailed: name = "CheckFailed"; break;
    case StatusKind::kInvalidArgument: name = "InvalidArgument"; break;
    case StatusKind::kCorruption: name = "Corruption"; break;
    case StatusKind::kNotSupported: name = "NotSupported"; break;
    case StatusKind::kIOError: name = "IOError"; break;
    case StatusKind::kUnavailable: name = "Unavailable"; break;
    case StatusKind::kInterrupted: name = "Interrupted"; break;
    case StatusKind::kPipeClosed: name = "PipeClosed"; break;
  }
  return std::string(name) + ": " + message_;
}

int exit_code_for(const Status& status) {
  switch (status.kind()) {
    case StatusKind::kOk:
    case StatusKind::kPipeClosed: return exit_code::kOk;
    case StatusKind::kNotFound:
    case StatusKind::kConflict:
    case StatusKind::kCursorExpired:
    case StatusKind::kCheckFailed: return exit_code::kNegative;
    case StatusKind::kInvalidArgument: return exit_code::kUsage;
    case StatusKind::kCorruption:
    case StatusKind::kNotSupported: return exit_code::kDamaged;
    case StatusKind::kIOError:
    case StatusKind::kUnavailable: return exit_code::kUnavailable;
    case StatusKind::kInterrupted: return exit_code::kInterrupted;
  }
  return exit_code::kUnavailable;
}

}  // namespace slip
