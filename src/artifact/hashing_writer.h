// Hashes (SHA-256) and writes a stream of chunks to a file on a thread of
// its own, so that producing the chunks (decompressing an artifact) and
// hashing and writing them use two CPUs. Internal header.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "artifact/codec.h"
#include "fs/io.h"
#include "slip/status.h"

namespace slip::artifact {

class HashingWriter {
 public:
  // Writes to FD (not owned), named PATH in errors; starts writing the file
  // back as it grows (the caller's fsync then has little left to do).
  HashingWriter(int fd, std::string path);
  // Abandons what is still queued and joins the thread.
  ~HashingWriter();
  HashingWriter(const HashingWriter&) = delete;
  HashingWriter& operator=(const HashingWriter&) = delete;

  // Hands CHUNK over, waiting while kQueued chunks are pending. Returns the
  // first write error so far (then nothing more is written).
  Status write(std::string chunk);
  // Waits until everything handed over is written; the hex SHA-256 of it.
  Result<std::string> finish();

 private:
  static constexpr std::size_t kQueued = 4;
  void run();

  const int fd_;
  const std::string path_;
  Sha256 hash_;  // used by the writer thread only, until finish()
  fs::Writeback writeback_;
  std::uint64_t written_ = 0;

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  bool closed_ = false;
  Status error_;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace slip::artifact
