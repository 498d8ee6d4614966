// User credentials given as content rather than as a file (the seed's
// `creds`: a .creds file's text, base64-encoded, for containers and ECS
// tasks that get secrets through the environment). The text never touches
// the disk: cnats gets the JWT and the nonce signature through callbacks.
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "slip/status.h"

namespace slip::nats {

struct UserCredentials {
  std::string jwt;
  std::string seed;  // "SU..."
  UserCredentials() = default;
  UserCredentials(const UserCredentials&) = delete;
  UserCredentials& operator=(const UserCredentials&) = delete;
  ~UserCredentials();  // wipes the seed
};

// The JWT and seed of a .creds file's TEXT (the blocks between
// "-----BEGIN NATS USER JWT-----" and "-----BEGIN USER NKEY SEED-----"
// lines and their END lines, as nsc writes them). SOURCE names where the
// text came from in errors ("NATS_CREDS_B64"); no error quotes the text.
Status parse_user_credentials(std::string_view text, const std::string& source,
                              UserCredentials* out);

// Makes OPTS authenticate with CREDS, which must outlive every connection
// made with OPTS (cnats calls back on each reconnect).
natsStatus use_user_credentials(natsOptions* opts, const UserCredentials* creds);

}  // namespace slip::nats
