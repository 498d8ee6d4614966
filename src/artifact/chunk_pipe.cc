#include "artifact/chunk_pipe.h"

namespace slip::artifact {

ChunkPipe::ChunkPipe(Consume consume) : consume_(std::move(consume)), thread_([this] { run(); }) {}

ChunkPipe::~ChunkPipe() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status ChunkPipe::write(std::string chunk) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return queue_.size() < kQueued || !error_.is_ok(); });
  if (!error_.is_ok()) return error_;
  if (closed_) return Status::invalid_argument("write to a finished ChunkPipe");
  queue_.push_back(std::move(chunk));
  lock.unlock();
  changed_.notify_all();
  return Status::ok();
}

Status ChunkPipe::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  return error_;
}

void ChunkPipe::run() {
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed, and all consumed
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();  // room for the next chunk
    Status s = consume_(chunk);
    if (s) continue;
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(s);
    queue_.clear();
    changed_.notify_all();
    return;
  }
}

Status ChunkedPipeWriter::write(const char* data, std::size_t size) {
  // The emitters write about a chunk at a time: such a write goes over as
  // it is, without growing a buffer reserved for small ones.
  if (chunk_.empty() && size >= kChunkSize) return pipe_->write(std::string(data, size));
  if (chunk_.capacity() < kChunkSize) chunk_.reserve(kChunkSize + kChunkSize / 4);
  chunk_.append(data, size);
  if (chunk_.size() < kChunkSize) return Status::ok();
  Status s = pipe_->write(std::move(chunk_));
  chunk_ = std::string();
  return s;
}

Status ChunkedPipeWriter::finish() {
  if (!chunk_.empty()) {
    SLIP_RETURN_IF_ERROR(pipe_->write(std::move(chunk_)));
    chunk_ = std::string();
  }
  return pipe_->finish();
}

}  // namespace slip::artifact
