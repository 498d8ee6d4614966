// The one place where cnats status codes become a slip::Status.
#pragma once

#include <nats/nats.h>

#include <string_view>

#include "slip/status.h"

namespace slip::nats {

// WHAT names the operation ("get config/db"); never pass secrets in it.
// JERR is the JetStream error code when the call returned one.
Status to_status(natsStatus s, std::string_view what, jsErrCode jerr = static_cast<jsErrCode>(0));

}  // namespace slip::nats
