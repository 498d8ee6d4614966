#include "slip/version_token.h"

#include <cstring>

#include "core/text.h"

namespace slip {

std::optional<VersionToken> VersionToken::from_bytes(std::string_view bytes) {
  if (bytes.size() > kMaxSize) return std::nullopt;
  VersionToken token;
  std::memcpy(token.data_.data(), bytes.data(), bytes.size());
  token.size_ = static_cast<std::uint8_t>(bytes.size());
  return token;
}

VersionToken VersionToken::from_revision(std::uint64_t revision) {
  VersionToken token;
  for (int i = 7; i >= 0; --i) {
    token.data_[i] = static_cast<std::uint8_t>(revision & 0xff);
    revision >>= 8;
  }
  token.size_ = 8;
  return token;
}

std::optional<std::uint64_t> VersionToken::revision() const {
  if (size_ != 8) return std::nullopt;
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | data_[i];
  return value;
}

std::string VersionToken::hex() const { return to_hex(bytes()); }

std::string VersionToken::display() const {
  if (auto rev = revision()) return std::to_string(*rev);
  return hex();
}

}  // namespace slip
