// A one-way pipe between two threads: the caller hands over chunks, and a
// thread of the pipe's own runs a consumer over them in order. Producing
// the bytes (reading a fold, decompressing an artifact) and consuming them
// (hashing, compressing, writing) then use two CPUs. Internal header.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "slip/status.h"

namespace slip::artifact {

// One producer thread calls write() and finish(). Everything CONSUME
// touches must outlive the pipe (declare it before the pipe): the pipe's
// destructor joins its thread.
class ChunkPipe {
 public:
  using Consume = std::function<Status(std::string_view chunk)>;

  // CONSUME runs on the pipe's thread, one chunk at a time, until it fails.
  explicit ChunkPipe(Consume consume);
  // Abandons what is still queued and joins the thread.
  ~ChunkPipe();
  ChunkPipe(const ChunkPipe&) = delete;
  ChunkPipe& operator=(const ChunkPipe&) = delete;

  // Hands CHUNK over, waiting while kQueued chunks are pending. Returns the
  // consumer's first error so far (then nothing more is consumed); after
  // finish(), an error.
  Status write(std::string chunk);
  // Waits until every chunk handed over is consumed; the consumer's first
  // error. Whatever CONSUME touched may be used by the caller afterwards.
  Status finish();

 private:
  static constexpr std::size_t kQueued = 4;
  void run();

  const Consume consume_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  bool closed_ = false;
  Status error_;
  std::thread thread_;  // last: starts once the rest is ready
};

// Gathers small writes into chunks of about kChunkSize for a ChunkPipe, so
// that the hand-over costs one lock per chunk, not per record.
class ChunkedPipeWriter {
 public:
  static constexpr std::size_t kChunkSize = 1 << 20;

  explicit ChunkedPipeWriter(ChunkPipe* pipe) : pipe_(pipe) {}
  Status write(const char* data, std::size_t size);
  // Hands over what is gathered, then ChunkPipe::finish().
  Status finish();

 private:
  ChunkPipe* pipe_;
  std::string chunk_;
};

}  // namespace slip::artifact
