#include "nats/server_version.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "nats/nats_status.h"

namespace slip::nats {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// "nats://host:port", "tls://[::1]:4222" -> host and port.
bool split_url(const std::string& url, std::string* host, std::string* port) {
  std::string rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string::npos) rest = rest.substr(scheme + 3);
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return false;
    *host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    *port = rest.size() > 1 && rest.front() == ':' ? rest.substr(1) : "4222";
    return true;
  }
  auto colon = rest.rfind(':');
  *host = rest.substr(0, colon);
  *port = colon == std::string::npos ? "4222" : rest.substr(colon + 1);
  return !host->empty();
}

Result<std::string> read_info_version(const std::string& host, const std::string& port,
                                      std::int64_t timeout_ms) {
  const std::string what = "read the version of nats-server " + host + ":" + port;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Status::unavailable(what + ": cannot resolve the host");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    return static_cast<int>(left < 0 ? 0 : left);
  };
  Status last = Status::unavailable(what + ": cannot connect");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) continue;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) continue;
    std::string line;
    char buf[4096];
    while (line.find("\r\n") == std::string::npos && line.size() < 64 * 1024) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, left_ms()) <= 0) break;
      ssize_t n = ::read(fd.get(), buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    auto end = line.find("\r\n");
    if (line.rfind("INFO ", 0) != 0 || end == std::string::npos) {
      last = Status::unavailable(what + ": no INFO from the server");
      continue;
    }
    auto j = nlohmann::json::parse(line.substr(5, end - 5), nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      if (auto v = j.find("version"); v != j.end() && v->is_string()) {
        ::freeaddrinfo(res);
        return v->get<std::string>();
      }
    }
    last = Status::unavailable(what + ": the server's INFO names no version");
  }
  ::freeaddrinfo(res);
  return last;
}

}  // namespace

Result<std::string> server_version(Connection& conn) {
  if (!conn.server_version.empty()) return conn.server_version;
  char url[1024] = {0};
  natsStatus s = natsConnection_GetConnectedUrl(conn.nc.get(), url, sizeof(url));
  if (s != NATS_OK) return to_status(s, "the connected server's address");
  std::string host, port;
  if (!split_url(url, &host, &port)) {
    return Status::unavailable("cannot read a server address from '" + std::string(url) + "'");
  }
  auto v = read_info_version(host, port, conn.wait_ms);
  if (v) conn.server_version = *v;
  return v;
}

bool version_at_least(const std::string& version, int major, int minor) {
  int ma = 0, mi = 0;
  if (std::sscanf(version.c_str(), "%d.%d", &ma, &mi) != 2) return false;
  return ma != major ? ma > major : mi >= minor;
}

Status require_2_11(Connection& conn, const std::string& what) {
  auto v = server_version(conn);
  if (!v) return v.status();
  if (version_at_least(*v, 2, 11)) return Status::ok();
  return Status::invalid_argument("nats-server " + *v + " does not support " + what + " (2.11+)");
}

}  // namespace slip::nats
