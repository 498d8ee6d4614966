// The nats-server fixture itself: readiness, restart, cleanup and clusters.
// A few lines of the NATS text protocol over a socket stand in for a client,
// so these tests do not depend on the code under test.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "support/files.h"
#include "support/nats_server.h"

using nlohmann::json;
using slip::test::NatsCluster;
using slip::test::NatsServer;
using slip::test::NatsServerOptions;

namespace {

// A bare NATS protocol connection: one line or payload at a time, 5 s
// timeout on every read.
class RawNats {
 public:
  explicit RawNats(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    // A bound, not a wait: an R3 stream's first write can take seconds on
    // a loaded machine.
    timeval timeout{15, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
  }
  ~RawNats() { ::close(fd_); }
  RawNats(const RawNats&) = delete;
  RawNats& operator=(const RawNats&) = delete;

  void send(const std::string& data) {
    if (::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size())) {
      throw std::runtime_error("send failed");
    }
  }

  // The next line, without its CRLF.
  std::string line() {
    std::size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) fill();
    std::string out = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    return out;
  }

  // The next N bytes and the CRLF after them.
  std::string payload(std::size_t n) {
    while (buffer_.size() < n + 2) fill();
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n + 2);
    return out;
  }

  // Reads INFO, then sends CONNECT with the given JSON fields and a PING;
  // returns the server's answer to that: "PONG" or an -ERR line.
  std::string handshake(const std::string& connect_fields = "") {
    info_ = line();
    send("CONNECT {\"verbose\":false,\"pedantic\":false" +
         (connect_fields.empty() ? "" : "," + connect_fields) + "}\r\nPING\r\n");
    return line();
  }

  const std::string& info() const { return info_; }

  // A request (a JetStream API call, or a publish to a stream); returns the
  // JSON reply. The PING makes sure the server has the reply subscription,
  // and so routes it to the other nodes, before the request goes out.
  json request(const std::string& subject, const std::string& body) {
    std::string sid = std::to_string(++sid_);
    std::string inbox = "_INBOX.fixture." + sid;
    send("SUB " + inbox + " " + sid + "\r\nPING\r\n");
    expect("PONG");
    send("PUB " + subject + " " + inbox + " " + std::to_string(body.size()) + "\r\n" + body +
         "\r\n");
    std::string reply = expect("MSG ");
    send("UNSUB " + sid + "\r\n");
    return json::parse(reply);
  }

 private:
  // Reads up to the first line starting with PREFIX, answering PINGs on the
  // way; returns the message payload for "MSG ".
  std::string expect(const std::string& prefix) {
    for (;;) {
      std::string l = line();
      if (l.rfind("-ERR", 0) == 0) throw std::runtime_error(l);
      if (l == "PING") {
        send("PONG\r\n");
      } else if (l.rfind(prefix, 0) == 0) {
        return prefix == "MSG " ? payload(std::stoul(l.substr(l.rfind(' ') + 1))) : l;
      }
    }
  }

  void fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) throw std::runtime_error("connection closed or timed out");
    buffer_.append(buf, static_cast<std::size_t>(n));
  }

  int fd_;
  std::string buffer_;
  std::string info_;
  int sid_ = 0;
};

json info_of(int port) {
  RawNats nats(port);
  std::string line = nats.line();
  REQUIRE(line.rfind("INFO ", 0) == 0);
  return json::parse(line.substr(5));
}

json create_stream(int port, const std::string& name, int replicas) {
  RawNats nats(port);
  REQUIRE(nats.handshake() == "PONG");
  json config = {
      {"name", name}, {"subjects", {name + ".>"}}, {"storage", "file"}, {"num_replicas", replicas}};
  return nats.request("$JS.API.STREAM.CREATE." + name, config.dump());
}

int stream_count(const NatsServer& server) {
  auto jsz = server.monitor("/jsz");
  REQUIRE(jsz.status == 200);
  return json::parse(jsz.body).value("streams", -1);
}

// True when no process (not even a zombie) has this pid.
bool gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

}  // namespace

TEST_CASE("nats: a server on loopback answers with an INFO line that has JetStream on" * doctest::test_suite("nats")) {
  // A descriptor opened without O_CLOEXEC, as client libraries do.
  slip::test::TempDir dir;
  int opened = ::open(dir.file("leaky").c_str(), O_WRONLY | O_CREAT, 0644);
  int leaky = ::fcntl(opened, F_DUPFD, 100);
  ::close(opened);
  REQUIRE(leaky >= 100);
  NatsServer server;
  ::close(leaky);
  CHECK(server.url() == "nats://127.0.0.1:" + std::to_string(server.port()));
  CHECK(server.running());
  json info = info_of(server.port());
  CHECK(info["jetstream"] == true);
  CHECK(info["host"] == "127.0.0.1");
  CHECK(info["port"] == server.port());
  CHECK(server.monitor("/healthz").status == 200);
  CHECK(slip::test::file_exists(server.store_dir() + "/jetstream"));
  CHECK(server.log().find("Server is ready") != std::string::npos);
  // The server holds only its own descriptors.
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(server.pid()) + "/fd")) {
    std::error_code ec;
    CHECK(std::filesystem::read_symlink(fd.path(), ec).string() != dir.file("leaky"));
  }
}

TEST_CASE("nats: restart keeps the port, the store dir and the JetStream data" * doctest::test_suite("nats")) {
  NatsServer server;
  int port = server.port();
  pid_t first = server.pid();
  json created = create_stream(port, "FIXTURE", 1);
  CAPTURE(created.dump());
  CHECK_FALSE(created.contains("error"));
  CHECK(stream_count(server) == 1);

  server.restart();
  CHECK(server.port() == port);
  CHECK(server.pid() != first);
  CHECK(gone(first));
  CHECK(stream_count(server) == 1);

  // A crash, not a clean shutdown: the store still recovers.
  pid_t second = server.pid();
  server.kill9();
  CHECK_FALSE(server.running());
  CHECK(server.pid() == -1);
  CHECK(gone(second));
  server.restart();
  CHECK(server.port() == port);
  CHECK(stream_count(server) == 1);
}

TEST_CASE("nats: the destructor leaves no process and no store dir behind" * doctest::test_suite("nats")) {
  pid_t pid = -1;
  std::string store;
  SUBCASE("after a normal scope exit") {
    NatsServer server;
    pid = server.pid();
    store = server.store_dir();
    REQUIRE(slip::test::file_exists(store));
  }
  SUBCASE("when the test throws") {
    CHECK_THROWS_AS(
        [&] {
          NatsServer server;
          pid = server.pid();
          store = server.store_dir();
          throw std::logic_error("a failing test");
        }(),
        std::logic_error);
  }
  REQUIRE(pid > 0);
  CHECK(gone(pid));
  CHECK_FALSE(slip::test::file_exists("/proc/" + std::to_string(pid)));
  CHECK_FALSE(slip::test::file_exists(store));
}

TEST_CASE("nats: user/password and token options make the server require them" * doctest::test_suite("nats")) {
  SUBCASE("user and password") {
    NatsServerOptions options;
    options.user = "alice";
    options.password = "s3cret";
    NatsServer server(options);
    RawNats wrong(server.port());
    CHECK(wrong.handshake("\"user\":\"alice\",\"pass\":\"nope\"") ==
          "-ERR 'Authorization Violation'");
    CHECK(json::parse(wrong.info().substr(5))["auth_required"] == true);
    RawNats right(server.port());
    CHECK(right.handshake("\"user\":\"alice\",\"pass\":\"s3cret\"") == "PONG");
  }
  SUBCASE("token") {
    NatsServerOptions options;
    options.token = "t0ken";
    NatsServer server(options);
    RawNats none(server.port());
    CHECK(none.handshake() == "-ERR 'Authorization Violation'");
    RawNats right(server.port());
    CHECK(right.handshake("\"auth_token\":\"t0ken\"") == "PONG");
  }
}

TEST_CASE("nats: config text reaches the server, and a bad one fails fast with the log" * doctest::test_suite("nats")) {
  NatsServerOptions options;
  options.config = "max_payload: 4096\n";
  {
    NatsServer server(options);
    CHECK(info_of(server.port())["max_payload"] == 4096);
  }

  options.config = "max_payload: [\n";
  std::string message;
  try {
    NatsServer server(options);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CAPTURE(message);
  CHECK(message.find("exited with status 1 during startup") != std::string::npos);
  CHECK(message.find("Parse error on line 2") != std::string::npos);
}

TEST_CASE("nats: a 3-node cluster forms and survives losing a follower" * doctest::test_suite("nats")) {
  NatsCluster cluster;
  REQUIRE(cluster.size() == 3);
  std::string urls = cluster.urls();
  CHECK(std::count(urls.begin(), urls.end(), ',') == 2);
  CHECK(urls.find(cluster.node(2).url()) != std::string::npos);
  int meta_leader = cluster.meta_leader();
  REQUIRE(meta_leader >= 0);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    CAPTURE(i);
    json meta = json::parse(cluster.node(i).monitor("/jsz").body)["meta_cluster"];
    CHECK(meta["cluster_size"] == 3);
    CHECK(meta["leader"] == "n" + std::to_string(meta_leader));
    CHECK(json::parse(cluster.node(i).monitor("/varz").body)["server_name"] ==
          "n" + std::to_string(i));
  }

  json created = create_stream(cluster.node(0).port(), "SURVIVOR", 3);
  CAPTURE(created.dump());
  REQUIRE_FALSE(created.contains("error"));
  RawNats client(cluster.node(0).port());
  REQUIRE(client.handshake() == "PONG");
  CHECK(client.request("SURVIVOR.a", "one")["seq"] == 1);

  // Kill a node that leads neither the meta group nor the stream, so no Raft
  // election (seconds long in 2.9) is needed.
  std::string stream_leader = created["cluster"]["leader"];
  std::size_t victim = 0;
  while (static_cast<int>(victim) == meta_leader || "n" + std::to_string(victim) == stream_leader) {
    ++victim;
  }
  NatsServer& follower = cluster.node(victim);
  follower.kill9();
  cluster.wait_formed();
  CHECK(cluster.meta_leader() == meta_leader);
  // Two of three replicas are a quorum: the stream still takes writes.
  RawNats survivor(cluster.node((victim + 1) % 3).port());
  REQUIRE(survivor.handshake() == "PONG");
  CHECK(survivor.request("SURVIVOR.b", "two")["seq"] == 2);

  int port = follower.port();
  follower.restart();
  CHECK(follower.port() == port);
  cluster.wait_formed();
  RawNats rejoined(follower.port());
  REQUIRE(rejoined.handshake() == "PONG");
  json info = rejoined.request("$JS.API.STREAM.INFO.SURVIVOR", "");
  CAPTURE(info.dump());
  CHECK(info["state"]["messages"] == 2);
}
