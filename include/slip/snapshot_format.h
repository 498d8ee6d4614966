// Constants of the PGSS snapshot log, version 2.
//
// The contract is ../shared/spec/snapshot-format.md (installed as
// slip-snapshot(5)); files must interoperate byte for byte with other
// implementations. Every literal below is taken from that page.
//
//   file   = "PGSS" ++ version:u16le (= 2) ++ record*
//   record = crc32:u32le ++ type:u8 ++ payload
//   PUT    0x01: key_len:u16le ++ key ++ value_len:u32le ++ value ++ ver_len:u8 ++ version
//   DELETE 0x02: key_len:u16le ++ key ++ ver_len:u8 ++ version
//   CURSOR 0x03: cur_len:u8 ++ cursor
//
// The CRC covers the bytes from the type byte to the end of the record.
#pragma once

#include <cstddef>
#include <cstdint>

namespace slip::snapshot {

inline constexpr char kMagic[4] = {'P', 'G', 'S', 'S'};
inline constexpr std::uint16_t kFormatVersion = 2;
inline constexpr std::size_t kHeaderSize = 6;

enum class RecordType : std::uint8_t { kPut = 0x01, kDelete = 0x02, kCursor = 0x03 };

inline constexpr std::size_t kCrcSize = 4;
inline constexpr std::size_t kRecordPrefixSize = kCrcSize + 1;  // crc + type byte
inline constexpr std::size_t kMaxKeySize = 65535;
inline constexpr std::size_t kMaxVersionSize = 10;
// A CRC mismatch on a record that ends fewer than this many bytes before the
// end of the file is a torn tail rather than corruption.
inline constexpr std::size_t kTornTailSlack = 6;

// Smallest encodings: an empty-key DELETE with no version, and a CURSOR.
inline constexpr std::size_t kPutFixedSize = kRecordPrefixSize + 2 + 4 + 1;
inline constexpr std::size_t kDeleteFixedSize = kRecordPrefixSize + 2 + 1;
inline constexpr std::size_t kCursorFixedSize = kRecordPrefixSize + 1;

static_assert(sizeof(kMagic) + sizeof(std::uint16_t) == kHeaderSize);
static_assert(kMaxKeySize == 0xffff, "key_len is a u16");
static_assert(static_cast<int>(RecordType::kPut) == 1 &&
              static_cast<int>(RecordType::kDelete) == 2 &&
              static_cast<int>(RecordType::kCursor) == 3);
// basic.snap: a PUT of a 14-byte key, 12-byte value, 8-byte version is 46 bytes.
static_assert(kPutFixedSize + 14 + 12 + 8 == 46);
// basic.snap: a CURSOR with an 8-byte token is 14 bytes.
static_assert(kCursorFixedSize + 8 == 14);

}  // namespace slip::snapshot
