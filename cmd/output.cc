#include "output.h"

#include "fs/io.h"

namespace slip::cli {

Status Output::write(std::string_view text) {
  if (!status_.is_ok()) return status_;
  buffer_.append(text);
  return maybe_flush();
}

Status Output::flush() {
  if (!status_.is_ok() || buffer_.empty()) return status_;
  status_ = fs::write_all(fd_, buffer_.data(), buffer_.size(), "standard output");
  buffer_.clear();
  return status_;
}

}  // namespace slip::cli
