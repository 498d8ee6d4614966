#include "support/silent_server.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace slip::test {

SilentServer::SilentServer() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd_ >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd_, 16) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
}

SilentServer::~SilentServer() {
  if (peer_ >= 0) ::close(peer_);
  if (fd_ >= 0) ::close(fd_);
}

std::string SilentServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool SilentServer::connected() {
  if (peer_ < 0) peer_ = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  return peer_ >= 0;
}

}  // namespace slip::test
