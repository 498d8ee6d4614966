// slip::Status and slip::Result<T>: the error currency of the core library.
//
// No exception crosses a public header. A Status is either OK or carries a
// kind and a one-line message. The kind decides the exit code (see
// exit_codes.h); the message is what a person reads after "slip: error: ".
// Messages must never contain secrets: redact before building one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace slip {

enum class StatusKind {
  kOk,
  kNotFound,         // a key, revision or artifact that does not exist (a negative answer)
  kConflict,         // a compare-and-set lost, a lease held elsewhere (a negative answer)
  kCursorExpired,    // a resume point older than what the server still holds
  kCheckFailed,      // a check found something (differences, torn tail, not canonical)
  kInvalidArgument,  // usage errors and bad input named by the user (missing file, bad name)
  kCorruption,       // damaged data: a corrupted or invalid snapshot or artifact
  kNotSupported,     // a format version or feature this build does not handle
  kIOError,          // the operating system refused: permission, disk full, read error
  kUnavailable,      // a server that cannot be reached, a timeout
  kInterrupted,      // SIGINT / SIGTERM
  kPipeClosed,       // the reader of stdout went away: a quiet, successful end
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status ok() { return Status(); }
  static Status not_found(std::string msg) { return {StatusKind::kNotFound, std::move(msg)}; }
  static Status conflict(std::string msg) { return {StatusKind::kConflict, std::move(msg)}; }
  static Status cursor_expired(std::string msg) {
    return {StatusKind::kCursorExpired, std::move(msg)};
  }
  static Status check_failed(std::string msg) { return {StatusKind::kCheckFailed, std::move(msg)}; }
  static Status invalid_argument(std::string msg) {
    return {StatusKind::kInvalidArgument, std::move(msg)};
  }
  static Status corruption(std::string msg) { return {StatusKind::kCorruption, std::move(msg)}; }
  static Status not_supported(std::string msg) {
    return {StatusKind::kNotSupported, std::move(msg)};
  }
  static Status io_error(std::string msg) { return {StatusKind::kIOError, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {StatusKind::kUnavailable, std::move(msg)}; }
  static Status interrupted(std::string msg) { return {StatusKind::kInterrupted, std::move(msg)}; }
  static Status pipe_closed() { return {StatusKind::kPipeClosed, "output closed"}; }

  // An I/O failure described by errno: permission and disk-full become
  // kIOError, ENOENT/EISDIR/ENOTDIR become kInvalidArgument (the user named a
  // path that cannot be used), EPIPE becomes kPipeClosed.
  static Status from_errno(int err, std::string_view what);

  bool is_ok() const { return kind_ == StatusKind::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context: "open a.snap: " + message.
  Status with_context(std::string_view context) const;

  // "Corruption: bad magic" style, for logs and tests.
  std::string to_string() const;

 private:
  Status(StatusKind kind, std::string msg) : kind_(kind), message_(std::move(msg)) {}

  StatusKind kind_ = StatusKind::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: must not be OK

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace slip

// Returns early from the enclosing function when EXPR is not OK.
#define SLIP_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::slip::Status slip_status_ = (expr);           \
    if (!slip_status_.is_ok()) return slip_status_; \
  } while (0)
