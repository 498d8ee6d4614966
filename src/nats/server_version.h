// The version of the nats-server a connection talks to. cnats 3.4 keeps
// the server's INFO to itself, so it is read from a second, short-lived
// TCP connection to the same server: every NATS server sends its INFO line
// (in plain text, before any TLS or authentication) as soon as a client
// connects.
#pragma once

#include <string>

#include "nats/connection.h"
#include "slip/status.h"

namespace slip::nats {

// "2.10.27"; cached in CONN after the first call.
Result<std::string> server_version(Connection& conn);

// True when VERSION ("2.11.0", "2.12.0-beta.1") is at least MAJOR.MINOR;
// false for text that is not a version.
bool version_at_least(const std::string& version, int major, int minor);

// OK when the connected server is 2.11 or later; else kInvalidArgument
// "nats-server X does not support WHAT (2.11+)".
Status require_2_11(Connection& conn, const std::string& what);

}  // namespace slip::nats
