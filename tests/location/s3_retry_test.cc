// The retry wrapper and the lost-answer path of conditional writes over real
// HTTP, against a scripted server in this process: s3rver cannot be made to
// fail on cue.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "location/s3_client.h"
#include "slip/location.h"

namespace loc = slip::location;
using slip::StatusKind;

namespace {

struct FakeRequest {
  std::string method;
  std::string target;
  std::string body;
};

// One thread serving one request per connection on 127.0.0.1. HANDLER gives
// the whole raw answer, or "" to close the connection without one.
class FakeHttp {
 public:
  explicit FakeHttp(std::function<std::string(const FakeRequest&)> handler)
      : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeHttp() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<FakeRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string raw;
      char buf[65536];
      std::size_t header_end = std::string::npos;
      std::size_t want = 0;
      for (;;) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        raw.append(buf, static_cast<std::size_t>(n));
        if (header_end == std::string::npos) {
          header_end = raw.find("\r\n\r\n");
          if (header_end == std::string::npos) continue;
          auto cl = raw.find("Content-Length: ");
          if (cl != std::string::npos && cl < header_end) want = std::stoul(raw.substr(cl + 16));
        }
        if (raw.size() >= header_end + 4 + want) break;
      }
      FakeRequest req;
      auto sp1 = raw.find(' ');
      auto sp2 = raw.find(' ', sp1 + 1);
      if (sp1 != std::string::npos && sp2 != std::string::npos && header_end != std::string::npos) {
        req.method = raw.substr(0, sp1);
        req.target = raw.substr(sp1 + 1, sp2 - sp1 - 1);
        req.body = raw.substr(header_end + 4);
        {
          std::lock_guard<std::mutex> lock(mu_);
          seen_.push_back(req);
        }
        std::string answer = handler_(req);
        if (!answer.empty()) (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }

  std::function<std::string(const FakeRequest&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<FakeRequest> seen_;
};

std::string http(int status, const std::string& body = "", const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra + "\r\n" + body;
}

void set_credentials() {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_ENDPOINT_URL");
  ::unsetenv("AWS_ENDPOINT_URL_S3");
}

}  // namespace

TEST_CASE("s3 retry over HTTP: 503 and a dropped connection are retried, 404 is not") {
  std::atomic<int> calls{0};
  FakeHttp server([&](const FakeRequest& r) -> std::string {
    int n = ++calls;
    if (r.target.find("/b/flaky") == 0) {
      if (n == 1) return http(503, "<Error><Code>SlowDown</Code></Error>");
      if (n == 2) return "";  // connection closed without an answer
      return http(200, "finally");
    }
    return http(404, "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>");
  });
  set_credentials();
  loc::Options options;
  options.endpoint = server.endpoint();
  auto l = loc::open_location("s3://b", options);
  REQUIRE(l.is_ok());
  auto got = (*l)->get_small("flaky", nullptr);
  REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
  CHECK(*got == "finally");
  CHECK(calls == 3);

  calls = 0;
  CHECK((*l)->get_small("missing", nullptr).status().kind() == StatusKind::kNotFound);
  CHECK(calls == 1);
  // The secret key is only ever a signing input, never sent.
  for (const auto& r : server.seen()) CHECK(r.body.find("secret") == std::string::npos);
}

TEST_CASE("s3 conditional put: a 412 after a lost answer is our own write when the bytes match") {
  std::mutex mu;
  std::string stored;
  std::string overwrite;  // when set, another writer wins while our answer is lost
  int puts = 0;
  FakeHttp server([&](const FakeRequest& r) -> std::string {
    std::lock_guard<std::mutex> lock(mu);
    if (r.method == "PUT") {
      if (++puts == 1) {
        stored = overwrite.empty() ? r.body : overwrite;  // the answer is lost
        return "";
      }
      return http(412,
                  "<Error><Code>PreconditionFailed</Code><Message>At least one of the "
                  "pre-conditions you specified did not hold</Message></Error>");
    }
    if (r.method == "GET") return http(200, stored, "ETag: \"e1\"\r\n");
    return http(400);
  });
  set_credentials();
  loc::Options options;
  options.endpoint = server.endpoint();
  options.conditional_writes = true;  // no HEAD pre-check: the server decides
  auto l = loc::open_location("s3://b/p", options);
  REQUIRE(l.is_ok());
  CHECK((*l)->put_small("pointer", "ours", loc::Precondition::create_only()).is_ok());
  CHECK(puts == 2);

  {
    std::lock_guard<std::mutex> lock(mu);
    puts = 0;
    overwrite = "someone else's";
  }
  auto lost = (*l)->put_small("pointer", "ours again", loc::Precondition::create_only());
  CHECK(lost.kind() == StatusKind::kConflict);
  CHECK(lost.message().find("PreconditionFailed") != std::string::npos);

  {
    std::lock_guard<std::mutex> lock(mu);
    puts = 1;  // answers 412 at once: no retry, no read-back
  }
  auto direct = (*l)->put_small("pointer", "someone else's", loc::Precondition::create_only());
  CHECK(direct.kind() == StatusKind::kConflict);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(puts == 2);
}
