// NKey seeds: natscli's --nkey takes a seed file, and cnats needs the
// public key as well, so slip derives it (Ed25519, via OpenSSL).
#pragma once

#include <string>

#include "slip/status.h"

namespace slip::nats {

// "SU..." seed text -> "U..." public key. kInvalidArgument for anything
// that is not a well-formed seed (the seed itself is never echoed).
Result<std::string> nkey_public_from_seed(const std::string& seed);
Result<std::string> nkey_public_from_seed_file(const std::string& path);

}  // namespace slip::nats
