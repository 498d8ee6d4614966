#include "artifact/hashing_writer.h"

namespace slip::artifact {

HashingWriter::HashingWriter(int fd, std::string path)
    : fd_(fd),
      path_(std::move(path)),
      writeback_(fd),
      pipe_([this](std::string_view chunk) { return consume(chunk); }) {}

Result<std::string> HashingWriter::finish() {
  SLIP_RETURN_IF_ERROR(chunks_.finish());
  return hash_.hex_digest();
}

Status HashingWriter::consume(std::string_view chunk) {
  hash_.update(chunk);
  SLIP_RETURN_IF_ERROR(fs::write_all(fd_, chunk.data(), chunk.size(), path_));
  written_ += chunk.size();
  writeback_.written(written_);
  return Status::ok();
}

}  // namespace slip::artifact
