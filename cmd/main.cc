#include <nats/nats.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"

int main(int argc, char** argv) {
  // A closed stdout must surface as EPIPE (a quiet exit 0), not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  slip::cli::Output out;
  const int code = slip::cli::run_main(args, out, stderr);
  // Every connection is gone with run_main; let cnats' own threads (timers,
  // async callbacks) finish before exit tears down what they use.
  nats_CloseAndWait(1000);
  return code;
}
