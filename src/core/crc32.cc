#include "core/crc32.h"

#include <isa-l/crc.h>

namespace slip {

std::uint32_t crc32_ieee(std::uint32_t crc, const void* data, std::size_t len) {
  // crc32_gzip_refl takes and returns the finalized CRC, exactly like zlib's
  // crc32(), so values chain across calls.
  return crc32_gzip_refl(crc, static_cast<const unsigned char*>(data), len);
}

}  // namespace slip
