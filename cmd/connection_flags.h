// The connection flags every NATS command shares, spelled as natscli
// spells them. Precedence: flag > environment > natscli context > default
// (nats://127.0.0.1:4222).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "command.h"
#include "slip/nats.h"

namespace slip::cli {

struct ConnectionFlags {
  std::string server, user, password, token, creds, nkey, tlsca, tlscert, tlskey, timeout, context;
  std::string creds_base64;  // "-": the credentials' content on standard input
  bool tlsfirst = false;

  // Whether connecting reads standard input (--creds-base64 -), which a
  // command reading its own input from there cannot share.
  bool reads_stdin() const { return creds_base64 == "-"; }
};

// Adds -s/--server, --user, --password, --token, --creds, --nkey, --tlsca,
// --tlscert, --tlskey, --tlsfirst, --timeout and --context to APP, each
// reading its environment variable when the flag is absent.
void add_connection_flags(CLI::App* app, ConnectionFlags& flags);

// Reads an environment variable; tests substitute their own.
using EnvLookup = std::function<const char*(const char*)>;

// Fills what flags and environment left empty from the natscli context
// (--context/NATS_CONTEXT, else the one selected in context.txt, under
// $XDG_CONFIG_HOME/nats or ~/.config/nats) and the defaults.
Result<nats::ConnectOptions> resolve_connection(const ConnectionFlags& flags, const EnvLookup& env);

// resolve_connection() with the process environment, then nats::connect().
Result<std::unique_ptr<kv::Client>> connect_from_flags(const ConnectionFlags& flags,
                                                       bool daemon = false);

}  // namespace slip::cli
