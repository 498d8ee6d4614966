// SHA-256 and HMAC-SHA256 over OpenSSL, for object etags on file:// and
// for SigV4 signing. Internal header.
#pragma once

#include <string>
#include <string_view>

namespace slip::location {

// Raw 32-byte digests.
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lower-case hex of sha256(data).
std::string sha256_hex(std::string_view data);

}  // namespace slip::location
