#include "artifact/codec.h"

#include <openssl/evp.h>

#include "core/text.h"

namespace slip::artifact {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(ctx_, data, size);
  bytes_ += size;
}

std::string Sha256::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string Sha256::hex_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

namespace {

Status zstd_error(const char* what, std::size_t code) {
  return Status::io_error(std::string(what) + ": " + ZSTD_getErrorName(code));
}

}  // namespace

ZstdCompressor::ZstdCompressor(ZSTD_CCtx* cctx, Sink sink)
    : cctx_(cctx), sink_(std::move(sink)), out_(ZSTD_CStreamOutSize(), '\0') {}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(cctx_); }

Result<std::unique_ptr<ZstdCompressor>> ZstdCompressor::create(int level, int workers, Sink sink) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (cctx == nullptr) return Status::io_error("zstd: out of memory");
  std::unique_ptr<ZstdCompressor> c(new ZstdCompressor(cctx, std::move(sink)));
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    return Status::invalid_argument("zstd level " + std::to_string(level) + " is out of range " +
                                    std::to_string(ZSTD_minCLevel()) + ".." +
                                    std::to_string(ZSTD_maxCLevel()));
  }
  std::size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(r)) return zstd_error("zstd level", r);
  r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(r)) return zstd_error("zstd checksum", r);
  if (workers > 0) {
    // A zstd built without threads refuses this; it then compresses in
    // this thread, which is still correct.
    (void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers);
  }
  return c;
}

Status ZstdCompressor::drive(const char* data, std::size_t size, ZSTD_EndDirective mode) {
  ZSTD_inBuffer in{data, size, 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    std::size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
    if (ZSTD_isError(left)) return zstd_error("zstd compress", left);
    if (out.pos > 0) SLIP_RETURN_IF_ERROR(sink_(out_.data(), out.pos));
    const bool done = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
    if (done) return Status::ok();
  }
}

Status ZstdCompressor::write(const char* data, std::size_t size) {
  return drive(data, size, ZSTD_e_continue);
}

Status ZstdCompressor::finish() { return drive(nullptr, 0, ZSTD_e_end); }

ZstdDecompressor::ZstdDecompressor(ZSTD_DCtx* dctx, Sink sink)
    : dctx_(dctx), sink_(std::move(sink)), out_(ZSTD_DStreamOutSize(), '\0') {}

ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(dctx_); }

Result<std::unique_ptr<ZstdDecompressor>> ZstdDecompressor::create(Sink sink) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return Status::io_error("zstd: out of memory");
  return std::unique_ptr<ZstdDecompressor>(new ZstdDecompressor(dctx, std::move(sink)));
}

Status ZstdDecompressor::write(const char* data, std::size_t size) {
  ZSTD_inBuffer in{data, size, 0};
  // Call again while input is left, or while the output buffer came back
  // full in the middle of a frame (zstd may hold more for consumed input).
  bool output_full = false;
  while (in.pos < in.size || output_full) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    std::size_t hint = ZSTD_decompressStream(dctx_, &out, &in);
    if (ZSTD_isError(hint)) {
      return Status::corruption(std::string("payload does not decompress: ") +
                                ZSTD_getErrorName(hint));
    }
    last_hint_ = hint;
    if (out.pos > 0) SLIP_RETURN_IF_ERROR(sink_(out_.data(), out.pos));
    output_full = out.pos == out.size && hint != 0;
  }
  return Status::ok();
}

Status ZstdDecompressor::finish() {
  if (last_hint_ != 0) return Status::corruption("payload ends inside a zstd frame");
  return Status::ok();
}

}  // namespace slip::artifact
