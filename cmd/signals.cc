#include "signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "fs/temp_path.h"
#include "slip/exit_codes.h"

namespace slip::cli {

namespace {
// Lock-free atomics: set by a handler on whichever thread takes the
// signal, read by the others.
std::atomic<int> g_stop{0};
std::atomic<pid_t> g_child_group{0};  // see set_waited_child_group
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<pid_t>::is_always_lock_free);
// The first signal asks for a clean stop; a second one, when the first is
// not being honoured fast enough (a command still running on its batch, a
// JetStream call waiting out its timeout), exits at once. That is as safe
// as a crash, which every writer here is built to survive: nothing is
// recorded as applied that was not.
extern "C" void on_stop_signal(int sig) {
  if (g_stop.load() != 0) {
    if (slip::fs::defer_signal_exit(sig)) return;
    // The command we wait on runs in a group of its own (a Ctrl-C meant
    // for slip lets it finish its batch): it is stopped with us.
    const pid_t group = g_child_group.load();
    if (group > 0) ::kill(-group, SIGTERM);
    // _exit runs no destructor: the scratch files they would remove go now.
    slip::fs::remove_temp_paths_now();
    ::_exit(slip::exit_code::kInterrupted);
  }
  g_stop.store(1);
}

extern "C" void on_abort_signal(int sig) {
  if (slip::fs::defer_signal_exit(sig)) return;
  slip::fs::remove_temp_paths_now();
  ::_exit(slip::exit_code::kInterrupted);
}

void install(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}
}  // namespace

void set_waited_child_group(pid_t group) { g_child_group.store(group); }

void install_stop_signals() {
  g_stop.store(0);
  install(on_stop_signal);
}

void install_abort_signals() { install(on_abort_signal); }

bool stop_requested() { return g_stop.load() != 0; }

}  // namespace slip::cli
