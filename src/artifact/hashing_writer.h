// Hashes (SHA-256) and writes a stream of chunks to a file on a thread of
// its own (a ChunkPipe), so that producing the chunks (decompressing an
// artifact) and hashing and writing them use two CPUs. Internal header.
#pragma once

#include <cstdint>
#include <string>

#include "artifact/chunk_pipe.h"
#include "artifact/codec.h"
#include "fs/io.h"
#include "slip/status.h"

namespace slip::artifact {

class HashingWriter {
 public:
  // Writes to FD (not owned), named PATH in errors; starts writing the file
  // back as it grows (the caller's fsync then has little left to do).
  HashingWriter(int fd, std::string path);

  // Gathers DATA into chunks for the pipe, waiting while it is full.
  // Returns the first write error so far (then nothing more is written).
  Status write(const char* data, std::size_t size) { return chunks_.write(data, size); }
  // Waits until everything handed over is written; the hex SHA-256 of it.
  Result<std::string> finish();

 private:
  Status consume(std::string_view chunk);

  const int fd_;
  const std::string path_;
  Sha256 hash_;  // used by the pipe's thread only, until finish()
  fs::Writeback writeback_;
  std::uint64_t written_ = 0;
  ChunkPipe pipe_;  // its thread starts once the rest above is ready
  ChunkedPipeWriter chunks_{&pipe_};
};

}  // namespace slip::artifact
