// NKey seeds: natscli's --nkey takes a seed file, and cnats needs the
// public key as well, so slip derives it (Ed25519, via OpenSSL).
#pragma once

#include <string>
#include <string_view>

#include "slip/status.h"

namespace slip::nats {

// "SU..." seed text -> "U..." public key. kInvalidArgument for anything
// that is not a well-formed seed (the seed itself is never echoed).
Result<std::string> nkey_public_from_seed(const std::string& seed);
Result<std::string> nkey_public_from_seed_file(const std::string& path);

// The seed text of the Ed25519 private key RAW (32 bytes) for a key of
// TYPE ('O' operator, 'A' account, 'U' user): what nsc writes, for tests
// that build their own operator, account and user.
std::string nkey_encode_seed(char type, std::string_view raw);

// The Ed25519 signature (64 bytes) of MESSAGE with the key of SEED, as a
// server's nonce challenge wants it. kInvalidArgument for a bad seed.
Result<std::string> nkey_sign(const std::string& seed, std::string_view message);

}  // namespace slip::nats
