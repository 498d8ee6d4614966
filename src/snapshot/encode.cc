#include <cstring>

#include "core/crc32.h"
#include "core/text.h"
#include "slip/snapshot_writer.h"
#include "snapshot/le.h"

namespace slip::snapshot {

namespace {

// Reserves the CRC field; returns its position for seal().
std::size_t begin_record(std::string* out, RecordType type) {
  std::size_t at = out->size();
  out->append(kCrcSize, '\0');
  out->push_back(static_cast<char>(type));
  return at;
}

void append_token(std::string* out, const VersionToken& token) {
  out->push_back(static_cast<char>(token.size()));
  out->append(token.bytes());
}

void seal(std::string* out, std::size_t at) {
  std::uint32_t crc = crc32_ieee(0, out->data() + at + kCrcSize, out->size() - at - kCrcSize);
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

}  // namespace

void encode_header(std::string* out) {
  out->append(kMagic, sizeof(kMagic));
  append_u16(out, kFormatVersion);
}

void encode_put(std::string* out, std::string_view key, std::string_view value,
                const VersionToken& version) {
  std::size_t at = begin_record(out, RecordType::kPut);
  append_u16(out, static_cast<std::uint16_t>(key.size()));
  out->append(key);
  append_u32(out, static_cast<std::uint32_t>(value.size()));
  out->append(value);
  append_token(out, version);
  seal(out, at);
}

void encode_delete(std::string* out, std::string_view key, const VersionToken& version) {
  std::size_t at = begin_record(out, RecordType::kDelete);
  append_u16(out, static_cast<std::uint16_t>(key.size()));
  out->append(key);
  append_token(out, version);
  seal(out, at);
}

void encode_cursor(std::string* out, const VersionToken& cursor) {
  std::size_t at = begin_record(out, RecordType::kCursor);
  append_token(out, cursor);
  seal(out, at);
}

Status validate_key(std::string_view key) {
  if (key.size() > kMaxKeySize) {
    return Status::invalid_argument("key of " + std::to_string(key.size()) +
                                    " bytes exceeds the 65535-byte limit");
  }
  if (!is_valid_utf8(key)) return Status::invalid_argument("key is not valid UTF-8");
  return Status::ok();
}

}  // namespace slip::snapshot
