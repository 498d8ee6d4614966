// ChunkPipe: the consumer sees every byte in order on its own thread; its
// first error reaches the producer and stops it. ChunkedPipeWriter gathers
// small writes into whole chunks.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "artifact/chunk_pipe.h"

using slip::Status;
using slip::artifact::ChunkedPipeWriter;
using slip::artifact::ChunkPipe;

TEST_CASE("chunk pipe: every byte, in order, consumed on another thread") {
  std::string seen;
  std::vector<std::size_t> sizes;
  std::thread::id consumer;
  ChunkPipe pipe([&](std::string_view chunk) {
    seen.append(chunk);
    sizes.push_back(chunk.size());
    consumer = std::this_thread::get_id();
    return Status::ok();
  });
  ChunkedPipeWriter writer(&pipe);
  std::string all;
  for (int i = 0; i < 5000; ++i) {
    // Record-sized writes, and now and then one larger than a chunk.
    std::string piece(i % 997 == 0 ? ChunkedPipeWriter::kChunkSize + 5 : 100 + i % 300,
                      static_cast<char>('a' + i % 26));
    all += piece;
    REQUIRE(writer.write(piece.data(), piece.size()).is_ok());
  }
  REQUIRE(writer.finish().is_ok());
  CHECK(seen == all);
  CHECK(consumer != std::this_thread::get_id());
  REQUIRE(sizes.size() > 2);
  // Every chunk but the last is at least a chunk's size: one hand-over per
  // chunk, not per write.
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    CHECK(sizes[i] >= ChunkedPipeWriter::kChunkSize);
  }
}

TEST_CASE("chunk pipe: the consumer's first error reaches the producer") {
  int consumed = 0;
  ChunkPipe pipe([&](std::string_view) {
    return ++consumed == 3 ? Status::unavailable("disk full") : Status::ok();
  });
  Status first;
  for (int i = 0; i < 1000 && first.is_ok(); ++i) first = pipe.write(std::string(10, 'x'));
  CHECK(first.kind() == slip::StatusKind::kUnavailable);
  CHECK(first.message() == "disk full");
  Status finished = pipe.finish();
  CHECK(finished.kind() == slip::StatusKind::kUnavailable);
  CHECK(consumed == 3);  // nothing after the failure
}

TEST_CASE("chunk pipe: a write after finish is refused, not lost") {
  int consumed = 0;
  ChunkPipe pipe([&](std::string_view) {
    ++consumed;
    return Status::ok();
  });
  REQUIRE(pipe.write("a").is_ok());
  REQUIRE(pipe.finish().is_ok());
  CHECK(consumed == 1);
  CHECK(pipe.write("b").kind() == slip::StatusKind::kInvalidArgument);
}
