// A version token: the opaque bytes a backend uses to order updates.
//
// For NATS it is the per-key revision (= stream sequence) as an 8-byte
// big-endian u64. Other backends use other widths (a FoundationDB
// versionstamp is 10 bytes); slip carries any width from 0 to 10 through
// unchanged. Width 0 means "unknown version" (a synthetic delete).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slip {

class VersionToken {
 public:
  static constexpr std::size_t kMaxSize = 10;

  VersionToken() = default;  // width 0: unknown

  // Returns nullopt when bytes.size() > kMaxSize.
  static std::optional<VersionToken> from_bytes(std::string_view bytes);
  static VersionToken from_revision(std::uint64_t revision);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view bytes() const { return {reinterpret_cast<const char*>(data_.data()), size_}; }

  // The NATS revision when the token is 8 bytes wide.
  std::optional<std::uint64_t> revision() const;

  std::string hex() const;
  // The revision number as decimal text for 8-byte tokens, hex otherwise.
  std::string display() const;

  friend bool operator==(const VersionToken& a, const VersionToken& b) {
    return a.bytes() == b.bytes();
  }

 private:
  std::array<std::uint8_t, kMaxSize> data_{};
  std::uint8_t size_ = 0;
};

}  // namespace slip
