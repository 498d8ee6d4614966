// A program running in the background during a test (a `slip watch`),
// with its standard output going to a file the test can poll. The
// destructor kills and reaps it, also when the test fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace slip::test {

class BackgroundProcess {
 public:
  // Starts ARGV with stdout to OUT_PATH and stderr to OUT_PATH + ".err".
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& out_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Sends SIG and waits for the exit; returns the exit code (128+signal
  // when killed by a signal).
  int stop(int sig);
  // Waits for the process to exit on its own, up to TIMEOUT; -1 if it did not.
  int wait(std::chrono::milliseconds timeout);
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Polls CONDITION every 20 ms until it holds or TIMEOUT passes; returns
// whether it held. For waiting on what another process writes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace slip::test
