// CRC-32 (IEEE 802.3, reflected, the value of zlib's crc32()), computed with
// ISA-L, which is several times faster than zlib on this hardware class.
#pragma once

#include <cstddef>
#include <cstdint>

namespace slip {

// Extends CRC (0 to start) over LEN bytes at DATA.
std::uint32_t crc32_ieee(std::uint32_t crc, const void* data, std::size_t len);

}  // namespace slip
