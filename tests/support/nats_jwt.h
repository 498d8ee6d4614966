// A decentralized-auth (JWT) setup for tests: an operator, one account
// with JetStream, and a user, made here with slip's own nkey code (nsc is
// not on the test machines). The server trusts the operator and preloads
// the account (resolver MEMORY); the user's .creds text is what nsc would
// write for it.
#pragma once

#include <string>

namespace slip::test {

struct JwtSetup {
  std::string server_config;  // for NatsServerOptions::config
  std::string user_creds;     // a .creds file's text
  std::string user_seed;      // the secret part of it, to look for in output
};

JwtSetup make_jwt_setup();

}  // namespace slip::test
