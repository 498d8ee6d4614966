#include "artifact/hashing_writer.h"

namespace slip::artifact {

HashingWriter::HashingWriter(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), writeback_(fd), thread_([this] { run(); }) {}

HashingWriter::~HashingWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status HashingWriter::write(std::string chunk) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return queue_.size() < kQueued || !error_.is_ok(); });
  if (!error_.is_ok()) return error_;
  queue_.push_back(std::move(chunk));
  lock.unlock();
  changed_.notify_all();
  return Status::ok();
}

Result<std::string> HashingWriter::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
  thread_.join();
  if (!error_.is_ok()) return error_;
  return hash_.hex_digest();
}

void HashingWriter::run() {
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed, and all written
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();  // room for the next chunk
    hash_.update(chunk.data(), chunk.size());
    Status s = fs::write_all(fd_, chunk.data(), chunk.size(), path_);
    if (s) {
      written_ += chunk.size();
      writeback_.written(written_);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(s);
    queue_.clear();
    changed_.notify_all();
    return;
  }
}

}  // namespace slip::artifact
