// Buffered standard output for commands. A reader that goes away (EPIPE)
// turns into Status::pipe_closed(), which main maps to a quiet exit 0.
#pragma once

#include <string>
#include <string_view>

#include "slip/status.h"

namespace slip::cli {

class Output {
 public:
  explicit Output(int fd = 1) : fd_(fd) {}
  ~Output() { (void)flush(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Appends to the buffer; writes it out when it grows large. Once a write
  // has failed, every later call returns the same Status.
  Status write(std::string_view text);
  Status line(std::string_view text) {
    SLIP_RETURN_IF_ERROR(write(text));
    return write("\n");
  }
  Status flush();

  // For callers that build their output in place.
  std::string& buffer() { return buffer_; }
  Status maybe_flush() { return buffer_.size() >= kFlushAt ? flush() : status_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 16;
  int fd_;
  std::string buffer_;
  Status status_;
};

}  // namespace slip::cli
