#include "slip/http_endpoint.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace slip::http {

namespace {

// Splits "host:port", ":port" and "[v6]:port".
Status split_address(const std::string& address, std::string* host, std::string* port) {
  const auto bad = [&] {
    return Status::invalid_argument("bad listen address '" + address +
                                    "': write HOST:PORT, :PORT or [IPv6]:PORT");
  };
  std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return bad();
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (port->find_first_not_of("0123456789") != std::string::npos || port->size() > 5) return bad();
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return Status::ok();
}

class PollingEndpoint final : public Endpoint {
 public:
  PollingEndpoint(int listen_fd, std::uint16_t port, std::function<std::string()> render)
      : listen_fd_(listen_fd), port_(port), render_(std::move(render)) {
    if (::pipe(wake_) != 0) wake_[0] = wake_[1] = -1;
    thread_ = std::thread([this] { serve(); });
  }

  ~PollingEndpoint() override {
    stop_ = true;
    if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
    thread_.join();
    ::close(listen_fd_);
    if (wake_[0] >= 0) ::close(wake_[0]);
    if (wake_[1] >= 0) ::close(wake_[1]);
  }

  std::uint16_t port() const override { return port_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      int n = ::poll(fds, wake_[0] >= 0 ? 2 : 1, 500);
      if (n <= 0 || stop_) continue;
      if (!(fds[0].revents & POLLIN)) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      answer(fd);
      ::close(fd);
    }
  }

  // Reads the request head (a slow or silent client gets 1 s), answers.
  void answer(int fd) {
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos &&
           request.find("\n\n") == std::string::npos && request.size() < 16384) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) return;
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got <= 0) return;
      request.append(buf, static_cast<std::size_t>(got));
    }
    std::string status = "200 OK";
    std::string body;
    std::size_t sp1 = request.find(' ');
    std::size_t sp2 = sp1 == std::string::npos ? sp1 : request.find(' ', sp1 + 1);
    std::string method = request.substr(0, sp1);
    std::string path = sp2 == std::string::npos ? "" : request.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method != "GET" && method != "HEAD") {
      status = "405 Method Not Allowed";
      body = "only GET\n";
    } else if (path != "/metrics" && path != "/") {
      status = "404 Not Found";
      body = "metrics are at /metrics\n";
    } else {
      body = render_();
    }
    std::string response = "HTTP/1.0 " + status +
                           "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                           "Content-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    if (method != "HEAD") response += body;
    std::size_t off = 0;
    while (off < response.size()) {
      ssize_t put = ::send(fd, response.data() + off, response.size() - off, MSG_NOSIGNAL);
      if (put <= 0) return;
      off += static_cast<std::size_t>(put);
    }
  }

  int listen_fd_;
  std::uint16_t port_;
  std::function<std::string()> render_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Endpoint>> Endpoint::start(const std::string& address,
                                                  std::function<std::string()> render) {
  std::string host, port;
  SLIP_RETURN_IF_ERROR(split_address(address, &host, &port));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return Status::invalid_argument("cannot listen on '" + address + "': " + gai_strerror(rc));
  }
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      std::uint16_t p = bound.ss_family == AF_INET6
                            ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      ::freeaddrinfo(found);
      return std::unique_ptr<Endpoint>(new PollingEndpoint(fd, p, std::move(render)));
    }
    err = errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return Status::unavailable("cannot listen on '" + address + "': " + std::strerror(err) +
                             " (choose another --metrics address)");
}

}  // namespace slip::http
