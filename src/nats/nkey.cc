// The NKey text encoding: base32 (RFC 4648, no padding) of prefix byte(s),
// the 32-byte key, and a CRC-16/XMODEM of both, little-endian. A seed has
// two prefix bytes: the seed marker and the type of its public key.
#include "nats/nkey.h"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace slip::nats {

namespace {

constexpr std::uint8_t kPrefixSeed = 18 << 3;  // 'S'

std::uint16_t crc16_xmodem(const std::uint8_t* data, std::size_t len) {
  std::uint16_t crc = 0;
  for (std::size_t i = 0; i < len; ++i) {
    crc ^= static_cast<std::uint16_t>(data[i]) << 8;
    for (int b = 0; b < 8; ++b)
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<std::uint16_t>(crc << 1);
  }
  return crc;
}

constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool base32_decode(const std::string& text, std::vector<std::uint8_t>* out) {
  std::uint32_t bits = 0;
  int nbits = 0;
  for (char c : text) {
    const char* at = std::char_traits<char>::find(kBase32, 32, c);
    if (at == nullptr) return false;
    bits = (bits << 5) | static_cast<std::uint32_t>(at - kBase32);
    nbits += 5;
    if (nbits >= 8) {
      nbits -= 8;
      out->push_back(static_cast<std::uint8_t>((bits >> nbits) & 0xff));
    }
  }
  return true;
}

std::string base32_encode(const std::vector<std::uint8_t>& data) {
  std::string out;
  std::uint32_t bits = 0;
  int nbits = 0;
  for (std::uint8_t byte : data) {
    bits = (bits << 8) | byte;
    nbits += 8;
    while (nbits >= 5) {
      nbits -= 5;
      out.push_back(kBase32[(bits >> nbits) & 31]);
    }
  }
  if (nbits > 0) out.push_back(kBase32[(bits << (5 - nbits)) & 31]);
  return out;
}

}  // namespace

namespace {

struct Ed25519Key {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::uint8_t public_prefix = 0;
};

// The private key of a seed and the prefix byte of its public key.
Result<Ed25519Key> key_from_seed(const std::string& seed_text) {
  const Status bad = Status::invalid_argument(
      "the nkey seed is not a valid NKey seed (expected text starting with 'S')");
  std::vector<std::uint8_t> raw;
  if (!base32_decode(seed_text, &raw) || raw.size() != 2 + 32 + 2) return bad;
  const std::uint16_t crc = static_cast<std::uint16_t>(raw[34] | (raw[35] << 8));
  if (crc16_xmodem(raw.data(), 34) != crc || (raw[0] & 0xf8) != kPrefixSeed) return bad;
  Ed25519Key out;
  out.public_prefix = static_cast<std::uint8_t>(((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3));
  out.key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data() + 2, 32));
  std::fill(raw.begin(), raw.end(), 0);  // do not keep the private seed around
  if (!out.key) return bad;
  return out;
}

}  // namespace

Result<std::string> nkey_public_from_seed(const std::string& seed_text) {
  auto key = key_from_seed(seed_text);
  if (!key) return key.status();
  std::array<std::uint8_t, 32> pub{};
  std::size_t pub_len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key->key.get(), pub.data(), &pub_len) != 1 || pub_len != 32)
    return Status::invalid_argument("the nkey seed has no Ed25519 public key");

  std::vector<std::uint8_t> encoded{key->public_prefix};
  encoded.insert(encoded.end(), pub.begin(), pub.end());
  const std::uint16_t pub_crc = crc16_xmodem(encoded.data(), encoded.size());
  encoded.push_back(static_cast<std::uint8_t>(pub_crc & 0xff));
  encoded.push_back(static_cast<std::uint8_t>(pub_crc >> 8));
  return base32_encode(encoded);
}

std::string nkey_encode_seed(char type, std::string_view raw) {
  // The base32 value of the type letter, in the top five bits of its byte.
  const std::uint8_t prefix = static_cast<std::uint8_t>((type - 'A') << 3);
  std::vector<std::uint8_t> data{static_cast<std::uint8_t>(kPrefixSeed | (prefix >> 5)),
                                 static_cast<std::uint8_t>((prefix & 31) << 3)};
  data.insert(data.end(), raw.begin(), raw.end());
  const std::uint16_t crc = crc16_xmodem(data.data(), data.size());
  data.push_back(static_cast<std::uint8_t>(crc & 0xff));
  data.push_back(static_cast<std::uint8_t>(crc >> 8));
  return base32_encode(data);
}

Result<std::string> nkey_sign(const std::string& seed, std::string_view message) {
  auto key = key_from_seed(seed);
  if (!key) return key.status();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != 64) {
    return Status::invalid_argument("cannot sign with the nkey seed");
  }
  return sig;
}

Result<std::string> nkey_public_from_seed_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalid_argument("cannot read nkey seed file " + path);
  std::string line;
  // natscli seed files hold the seed alone; tolerate surrounding lines.
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.size() > 2 && line[0] == 'S') return nkey_public_from_seed(line);
  }
  return Status::invalid_argument("no nkey seed found in " + path);
}

}  // namespace slip::nats
