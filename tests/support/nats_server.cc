#include "support/nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>

namespace slip::test {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr int kStopTimeoutMs = 5000;
constexpr int kStartAttempts = 5;

// A cluster whose nodes all run but whose JetStream meta group never settled
// on every node. Seen once on 2.10.27 under a loaded CI machine (the meta
// leader stuck at cluster_size 2 with all routes up); a fresh start of the
// whole cluster forms normally, so the constructor tries once more.
class ClusterNotFormed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server could not bind one of its ports: someone took it between
// free_loopback_ports() and the server's bind. Worth a retry.
class PortInUse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Closes a file descriptor at scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

// Resolved in the parent, because the child may only make async-signal-safe
// calls between fork and exec.
std::string find_in_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr && *env != '\0' ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  throw std::runtime_error(name + " not found in PATH (install the Debian package nats-server)");
}

// The last MAX_LINES lines of TEXT, for error messages.
std::string tail_lines(const std::string& text, int max_lines) {
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int lines = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++lines == max_lines) break;
  }
  return text.substr(pos);
}

std::string read_from(const std::string& path, long offset) {
  std::string all;
  try {
    all = read_file(path);
  } catch (const std::exception&) {
    return "";
  }
  return offset < static_cast<long>(all.size()) ? all.substr(static_cast<std::size_t>(offset)) : "";
}

long file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : 0;
}

// FD, moved to a number above 2 (and closed), so that setting up the child's
// stdin, stdout and stderr cannot overwrite it. -1 stays -1.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return high;
}

void sleep_ms(long ms) { std::this_thread::sleep_for(milliseconds(ms)); }

}  // namespace

HttpResponse http_get(int port, const std::string& target) {
  HttpResponse response;
  Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.fd < 0) return response;
  timeval timeout{2, 0};
  ::setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return response;

  // HTTP/1.0 with Connection: close: the body is plain and ends at EOF.
  std::string request =
      "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return response;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return response;  // timeout: no complete answer
    if (n == 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK\r\n...headers...\r\n\r\nbody"
  std::size_t space = raw.find(' ');
  std::size_t body = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/", 0) != 0 || space == std::string::npos || body == std::string::npos) {
    return response;
  }
  response.status = std::atoi(raw.c_str() + space + 1);
  response.body = raw.substr(body + 4);
  return response;
}

std::vector<int> free_loopback_ports(std::size_t n) {
  // All sockets stay bound until every port is read back, so the kernel
  // cannot hand out the same port twice.
  std::vector<std::unique_ptr<Fd>> socks;
  std::vector<int> ports;
  for (std::size_t i = 0; i < n; ++i) {
    auto sock = std::make_unique<Fd>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock->fd < 0) throw std::runtime_error(sys_error("socket"));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(sock->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(sock->fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(sys_error("bind 127.0.0.1:0"));
    }
    ports.push_back(ntohs(addr.sin_port));
    socks.push_back(std::move(sock));
  }
  return ports;
}

std::string nats_server_binary() {
  const char* env = std::getenv("SLIP_NATS_SERVER");
  if (env == nullptr || *env == '\0') return find_in_path("nats-server");
  const std::string binary = env;
  if (binary == "untagged") {
    throw std::runtime_error(
        "this test starts a nats-server but is not in the doctest suite \"nats\", so CTest "
        "would not run it on every server of the version matrix: add "
        "* doctest::test_suite(\"nats\") to its TEST_CASE");
  }
  if (::access(binary.c_str(), X_OK) != 0) {
    throw std::runtime_error("SLIP_NATS_SERVER=" + binary +
                             " is not an executable nats-server (run scripts/fetch-nats-servers)");
  }
  return binary;
}

const ServerVersion& nats_server_version() {
  static const ServerVersion version = [] {
    const std::string binary = nats_server_binary();
    std::string out;
    if (FILE* p = ::popen(("'" + binary + "' --version 2>&1").c_str(), "r")) {
      char buf[256];
      while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
      ::pclose(p);
    }
    // "nats-server: v2.10.27"
    ServerVersion v;
    std::size_t at = out.find(": v");
    if (at == std::string::npos ||
        std::sscanf(out.c_str() + at + 3, "%d.%d.%d", &v.major, &v.minor, &v.patch) < 2) {
      throw std::runtime_error(binary + " --version printed no version: " + out);
    }
    v.text = std::to_string(v.major) + "." + std::to_string(v.minor) + "." +
             std::to_string(v.patch);
    std::fprintf(stderr, "nats-server %s (%s)\n", v.text.c_str(), binary.c_str());
    return v;
  }();
  return version;
}

bool server_has(int major, int minor, const std::string& why) {
  const ServerVersion& v = nats_server_version();
  if (v.at_least(major, minor)) return true;
  std::fprintf(stderr, "skipped on nats-server %s: %s (needs %d.%d)\n", v.text.c_str(),
               why.c_str(), major, minor);
  return false;
}

// ---- NatsServer ----

NatsServer::NatsServer(NatsServerOptions options) : NatsServer(std::move(options), Wait::kReady) {}

NatsServer::NatsServer(NatsServerOptions options, Wait wait) : options_(std::move(options)) {
  store_dir_ = dir_.file("store");
  log_path_ = dir_.file("server.log");
  if (!options_.config.empty()) {
    config_path_ = dir_.file("server.conf");
    write_file(config_path_, options_.config);
  }
  port_ = options_.port;
  monitor_port_ = options_.monitor_port;
  if (wait == Wait::kReady) {
    start(/*may_pick_ports=*/true);
    return;
  }
  // NatsCluster starts every node before waiting for any: a clustered node is
  // not healthy until a quorum of its peers runs.
  if (port_ == 0 || monitor_port_ == 0) {
    auto ports = free_loopback_ports(2);
    if (port_ == 0) port_ = ports[0];
    if (monitor_port_ == 0) monitor_port_ = ports[1];
  }
  spawn();
}

NatsServer::~NatsServer() {
  try {
    stop();
  } catch (...) {
    // Only an allocation in stop() could throw; a destructor must not.
  }
}

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

bool NatsServer::running() const {
  if (pid_ <= 0) return false;
  siginfo_t info{};
  // WNOWAIT: look without reaping, so pid_ stays ours until stop().
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

std::string NatsServer::log() const { return read_from(log_path_, 0); }

HttpResponse NatsServer::monitor(const std::string& target) const {
  return http_get(monitor_port_, target);
}

void NatsServer::signal_group(int sig) const {
  // The server leads its own process group; signal all of it.
  if (pid_ > 0) ::kill(-pid_, sig);
}

// Waits up to TIMEOUT_MS (-1: forever) for the server to exit, then kills
// whatever else is left in its group and reaps it. True when reaped.
bool NatsServer::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return true;
  auto deadline = Clock::now() + milliseconds(timeout_ms);
  long backoff = 1;
  for (;;) {
    siginfo_t info{};
    int rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc != 0 && errno == EINTR) continue;
    if (rc != 0 || info.si_pid != 0) break;  // exited (or not our child any more)
    if (timeout_ms >= 0 && Clock::now() >= deadline) return false;
    sleep_ms(backoff);
    backoff = std::min(backoff * 2, 20L);
  }
  // The group id cannot be reused while its leader is an unreaped zombie, so
  // this reaches only the server's own descendants, should it have any.
  signal_group(SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return true;
}

void NatsServer::stop() {
  if (pid_ <= 0) return;
  signal_group(SIGTERM);
  if (!wait_exit(kStopTimeoutMs)) {
    signal_group(SIGKILL);
    wait_exit(-1);
  }
}

void NatsServer::kill9() {
  if (pid_ <= 0) return;
  signal_group(SIGKILL);
  wait_exit(-1);
}

void NatsServer::restart() {
  stop();
  start(/*may_pick_ports=*/false);
}

// Starts and waits for readiness. On a port race, picks new ports when
// allowed (first start with ports left to us), else retries the same ones
// for a while: the thief may be a short-lived outgoing connection.
void NatsServer::start(bool may_pick_ports) {
  bool pick_port = may_pick_ports && options_.port == 0;
  bool pick_monitor = may_pick_ports && options_.monitor_port == 0;
  for (int attempt = 1;; ++attempt) {
    if (pick_port || pick_monitor) {
      auto ports = free_loopback_ports(2);
      if (pick_port) port_ = ports[0];
      if (pick_monitor) monitor_port_ = ports[1];
    }
    spawn();
    try {
      wait_ready();
      return;
    } catch (const PortInUse&) {
      if (attempt == kStartAttempts) throw;
      if (!pick_port && !pick_monitor) sleep_ms(100L * attempt);
    }
  }
}

void NatsServer::spawn() {
  const std::string binary = options_.binary.empty() ? nats_server_binary() : options_.binary;
  if (options_.binary.empty()) nats_server_version();  // into the test log, once
  std::vector<std::string> argv = {
      binary, "-a",  "127.0.0.1", "-p", std::to_string(port_), "-m", std::to_string(monitor_port_),
      "-js",  "-sd", store_dir_};
  if (!config_path_.empty()) argv.insert(argv.end(), {"-c", config_path_});
  if (!options_.user.empty()) {
    argv.insert(argv.end(), {"--user", options_.user, "--pass", options_.password});
  }
  if (!options_.token.empty()) argv.insert(argv.end(), {"--auth", options_.token});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  // stdout and stderr go to the log, appended across restarts, so startup
  // errors printed before logging is set up are kept too.
  log_offset_ = file_size(log_path_);
  Fd log(above_stdio(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)));
  Fd null(above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (log.fd < 0 || null.fd < 0) throw std::runtime_error(sys_error("open " + log_path_));
  // The child reports a failed exec through this pipe; a successful exec
  // closes it (O_CLOEXEC), so EOF means the server runs.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error(sys_error("pipe"));
  Fd report_read(report[0]);
  Fd report_write(above_stdio(report[1]));
  int max_fd = static_cast<int>(::sysconf(_SC_OPEN_MAX));

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(sys_error("fork"));
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Ignored signals survive exec; process.cc ignores SIGPIPE.
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(null.fd, 0);
    ::dup2(log.fd, 1);
    ::dup2(log.fd, 2);
    // Descriptors the test process opened without O_CLOEXEC (client
    // sockets of other libraries) must not live on in the server, or closing
    // them in the test would not close the connection.
    if (report_write.fd != 3) {
      ::dup2(report_write.fd, 3);
      ::fcntl(3, F_SETFD, FD_CLOEXEC);
    }
    if (::close_range(4, ~0U, 0) != 0) {
      for (int fd = 4; fd < max_fd; ++fd) ::close(fd);
    }
    ::execv(args[0], args.data());
    int err = errno;
    ssize_t ignored = ::write(3, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::close(report_write.fd);
  report_write.fd = -1;
  int err = 0;
  ssize_t n;
  do {
    n = ::read(report_read.fd, &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  pid_ = pid;
  if (n == static_cast<ssize_t>(sizeof err)) {
    wait_exit(-1);
    throw std::runtime_error("cannot run " + binary + ": " + std::strerror(err));
  }
}

// Polls /healthz with a growing backoff until it answers 200, the server
// exits, or kReadyTimeout passes.
void NatsServer::wait_ready() {
  auto deadline = Clock::now() + kReadyTimeout;
  long backoff = 5;
  std::string last = "no answer";
  for (;;) {
    if (!running()) {
      siginfo_t info{};
      ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
      std::string how = info.si_code == CLD_EXITED
                            ? "exited with status " + std::to_string(info.si_status)
                            : "was killed by signal " + std::to_string(info.si_status);
      std::string message = failure("nats-server " + how + " during startup");
      wait_exit(-1);
      if (read_from(log_path_, log_offset_).find("address already in use") != std::string::npos) {
        throw PortInUse(message);
      }
      throw std::runtime_error(message);
    }
    HttpResponse health = monitor("/healthz");
    if (health.status == 200) return;
    if (health.status != 0) last = std::to_string(health.status) + " " + health.body;
    auto now = Clock::now();
    if (now >= deadline) {
      std::string message =
          failure("nats-server not healthy after 10 s (last /healthz: " + last + ")");
      stop();
      throw std::runtime_error(message);
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - now).count();
    sleep_ms(std::min(backoff, static_cast<long>(left) + 1));
    backoff = std::min(backoff * 2, 100L);
  }
}

std::string NatsServer::failure(const std::string& what) const {
  std::string log = tail_lines(read_from(log_path_, log_offset_), 40);
  return what + " (client port " + std::to_string(port_) + ", monitor port " +
         std::to_string(monitor_port_) + "); server log " + log_path_ + ":\n" + log;
}

// ---- NatsCluster ----

NatsCluster::NatsCluster(std::size_t size) {
  if (size == 0) throw std::invalid_argument("NatsCluster needs at least one node");
  nodes_.resize(size);
  bool formation_retried = false;
  for (int attempt = 1;; ++attempt) {
    try {
      start_all();
      wait_formed();
      return;
    } catch (const PortInUse&) {
      if (attempt == kStartAttempts) throw;
      for (auto& node : nodes_) node.reset();
    } catch (const ClusterNotFormed& e) {
      if (formation_retried) throw;
      formation_retried = true;
      std::fprintf(stderr, "nats cluster did not form; starting it again once:\n%s\n", e.what());
      for (auto& node : nodes_) node.reset();
    }
  }
}

NatsCluster::~NatsCluster() {
  // Signal every node first so they shut down together, then reap each.
  for (auto& node : nodes_) {
    if (node) node->signal_group(SIGTERM);
  }
  for (auto& node : nodes_) node.reset();
}

void NatsCluster::start_all() {
  std::size_t n = nodes_.size();
  auto ports = free_loopback_ports(3 * n);  // client, monitor, cluster per node
  std::string routes;
  for (std::size_t i = 0; i < n; ++i) {
    routes += "    nats-route://127.0.0.1:" + std::to_string(ports[3 * i + 2]) + "\n";
  }
  for (std::size_t i = 0; i < n; ++i) {
    NatsServerOptions options;
    options.port = ports[3 * i];
    options.monitor_port = ports[3 * i + 1];
    // A route to itself is harmless: the server recognises and drops it.
    options.config = "server_name: n" + std::to_string(i) +
                     "\n"
                     "cluster {\n"
                     "  name: slip-test\n"
                     "  listen: 127.0.0.1:" +
                     std::to_string(ports[3 * i + 2]) +
                     "\n"
                     "  routes: [\n" +
                     routes + "  ]\n}\n";
    nodes_[i].reset(new NatsServer(std::move(options), NatsServer::Wait::kNo));
  }
}

std::string NatsCluster::urls() const {
  std::string out;
  for (const auto& node : nodes_) out += (out.empty() ? "" : ",") + node->url();
  return out;
}

int NatsCluster::meta_leader() const {
  for (const auto& node : nodes_) {
    if (!node->running()) continue;
    auto jsz = nlohmann::json::parse(node->monitor("/jsz").body, nullptr, false);
    if (!jsz.is_object() || !jsz.contains("meta_cluster")) return -1;
    std::string leader = jsz["meta_cluster"].value("leader", "");
    if (leader.size() < 2 || leader[0] != 'n') return -1;
    return std::atoi(leader.c_str() + 1);
  }
  return -1;
}

void NatsCluster::wait_formed() {
  std::vector<NatsServer*> running;
  for (auto& node : nodes_) {
    if (node->running()) running.push_back(node.get());
  }
  // Each node's own wait first: it notices a node that exits (a port race,
  // a bad config) at once, with that node's log.
  for (auto* node : running) node->wait_ready();

  auto deadline = Clock::now() + kReadyTimeout;
  long backoff = 5;
  std::string state;
  for (;;) {
    bool formed = true;
    std::set<std::string> leaders;
    state.clear();
    for (auto* node : running) {
      HttpResponse health = node->monitor("/healthz");
      auto jsz = nlohmann::json::parse(node->monitor("/jsz").body, nullptr, false);
      auto routez = nlohmann::json::parse(node->monitor("/routez").body, nullptr, false);
      std::string leader;
      int cluster_size = 0;
      int routes = 0;
      if (jsz.is_object() && jsz.contains("meta_cluster")) {
        leader = jsz["meta_cluster"].value("leader", "");
        cluster_size = jsz["meta_cluster"].value("cluster_size", 0);
      }
      if (routez.is_object()) routes = routez.value("num_routes", 0);
      leaders.insert(leader);
      state += " " + node->url() + ": healthz " + std::to_string(health.status) + ", leader '" +
               leader + "', cluster_size " + std::to_string(cluster_size) + ", routes " +
               std::to_string(routes) + ";";
      formed = formed && health.status == 200 && !leader.empty() &&
               cluster_size == static_cast<int>(nodes_.size()) &&
               routes >= static_cast<int>(running.size()) - 1;
    }
    if (formed && leaders.size() == 1) {
      int leader = std::atoi(leaders.begin()->c_str() + 1);
      if (leader >= 0 && leader < static_cast<int>(nodes_.size()) && nodes_[leader]->running()) {
        return;
      }
    }
    auto now = Clock::now();
    if (now >= deadline) {
      std::string message = "nats cluster not formed after 10 s:" + state;
      for (auto* node : running) message += "\n" + node->failure("node");
      throw ClusterNotFormed(message);
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - now).count();
    sleep_ms(std::min(backoff, static_cast<long>(left) + 1));
    backoff = std::min(backoff * 2, 100L);
  }
}

}  // namespace slip::test
