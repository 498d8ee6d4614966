// The exit status of slip is a contract with shell scripts; man/slip.1
// documents it ("EXIT STATUS"). Change neither without the other.
#pragma once

#include "slip/status.h"

namespace slip::exit_code {

inline constexpr int kOk = 0;  // success
inline constexpr int kNegative =
    1;                            // a negative answer: not found, CAS lost, differences, torn tail
inline constexpr int kUsage = 2;  // usage error or bad input, a request the server refuses
inline constexpr int kDamaged = 3;        // damaged data: corrupted or invalid snapshot or artifact
inline constexpr int kUnavailable = 4;    // server unreachable, timeout, permission, disk full
inline constexpr int kInterrupted = 130;  // SIGINT or SIGTERM

}  // namespace slip::exit_code

namespace slip {

// The one mapping from a Status to the process exit code.
int exit_code_for(const Status& status);

}  // namespace slip
