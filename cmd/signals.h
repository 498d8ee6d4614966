// SIGINT/SIGTERM as a flag that long-running commands poll: they finish
// the batch in hand, persist the cursor, and exit 130. A second signal
// exits 130 at once, without waiting for the batch.
#pragma once

#include <sys/types.h>

namespace slip::cli {

// Installs the handlers (without SA_RESTART) and clears the flag.
void install_stop_signals();
// For commands with no batch to finish and nothing remote to undo (import,
// diff): the first SIGINT/SIGTERM removes their temporary files
// (fs::TempPath) and exits 130 at once, except inside an
// fs::DeferSignalExit (an import swapping folds), which it waits for.
void install_abort_signals();
bool stop_requested();
// The process group of a command being waited on (0: none), which a second
// signal terminates before exiting.
void set_waited_child_group(pid_t group);

}  // namespace slip::cli
