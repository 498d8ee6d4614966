// Streaming building blocks of artifacts: SHA-256 (OpenSSL EVP) and zstd
// compression and decompression that hand their output to a callback.
// Internal header. Each object is used by one thread.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "slip/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace slip::artifact {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string hex_digest();  // finishes; call once
  std::uint64_t bytes() const { return bytes_; }

  static std::string hex_of(std::string_view data);

 private:
  EVP_MD_CTX* ctx_;
  std::uint64_t bytes_ = 0;
};

using Sink = std::function<Status(const char* data, std::size_t size)>;

// Compresses what write() gets into a zstd frame, passing compressed bytes
// to SINK as they come out. WORKERS > 0 runs zstd's worker threads.
class ZstdCompressor {
 public:
  static Result<std::unique_ptr<ZstdCompressor>> create(int level, int workers, Sink sink);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  Status write(const char* data, std::size_t size);
  Status finish();  // ends the frame

 private:
  ZstdCompressor(ZSTD_CCtx* cctx, Sink sink);
  Status drive(const char* data, std::size_t size, ZSTD_EndDirective mode);

  ZSTD_CCtx* cctx_;
  Sink sink_;
  std::string out_;
};

// Decompresses a stream of one or more zstd frames; decompressed bytes go
// to SINK. Damage is kCorruption.
class ZstdDecompressor {
 public:
  static Result<std::unique_ptr<ZstdDecompressor>> create(Sink sink);
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  Status write(const char* data, std::size_t size);
  // kCorruption when the input ended inside a frame.
  Status finish();

 private:
  ZstdDecompressor(ZSTD_DCtx* dctx, Sink sink);

  ZSTD_DCtx* dctx_;
  Sink sink_;
  std::string out_;
  std::size_t last_hint_ = 0;  // 0: the last frame is complete
};

}  // namespace slip::artifact
