// Test fixture: a loopback port that takes connections (the kernel
// completes them from the listen backlog) and never answers: a server that
// hangs, for the requests slip must be able to give up on.
//
//   slip::test::SilentServer silent;
//   ... AWS_ENDPOINT_URL=silent.endpoint() ...
//   wait_until([&] { return silent.connected(); }, 30s);  // a request waits
#pragma once

#include <string>

namespace slip::test {

class SilentServer {
 public:
  SilentServer();  // fails the test when the socket cannot be set up
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  // "http://127.0.0.1:PORT".
  std::string endpoint() const;
  // Whether a client has connected; it is accepted and never answered.
  bool connected();

 private:
  int fd_ = -1;
  int peer_ = -1;
  int port_ = 0;
};

}  // namespace slip::test
