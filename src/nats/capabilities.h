// What the connected server's JetStream can do. cnats 3.4 keeps the
// server's INFO (and so its version) to itself; the JetStream API level
// (ADR-44) in the answer to $JS.API.INFO tells instead: nats-server 2.11
// reports level 1 (2.15: 5), older servers report none.
#pragma once

#include <string>

#include "nats/connection.h"
#include "slip/status.h"

namespace slip::nats {

// The API level, 0 for a server before 2.11; cached in CONN.
Result<int> jetstream_api_level(Connection& conn);

// OK when the connected server is 2.11 or later (API level 1 or more);
// else kInvalidArgument "WHAT need nats-server 2.11 or later ...".
Status require_2_11(Connection& conn, const std::string& what);

}  // namespace slip::nats
