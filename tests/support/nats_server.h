// Test fixture: real nats-server processes (a single JetStream server, or a
// JetStream cluster) on free loopback ports, for integration tests.
//
// Every server runs the matrix's nats-server binary (see nats_server_binary())
// as a child in its own process group, with its store dir, config file and log in a private TempDir. The
// destructors stop the processes (SIGTERM, then SIGKILL after 5 s), reap them
// and remove the directories, also when a test throws. Should the test binary
// itself be killed, the kernel kills the servers (PR_SET_PDEATHSIG) and only
// the temp dirs stay behind. That signal comes when the *thread* that started
// a server exits, so start servers from a thread that outlives them (the
// doctest main thread). The servers inherit no descriptor but stdio.
//
// Failures (the binary is missing, the server exits, it is not healthy within
// 10 s) throw std::runtime_error whose message ends with the tail of the
// server log. Not thread-safe: use one fixture from one thread.
//
// Nothing here uses cnats: only sockets and HTTP GETs to the monitoring port.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "support/files.h"

namespace slip::test {

struct HttpResponse {
  int status = 0;  // 0: no HTTP answer (connection refused, timeout)
  std::string body;
};

// GET TARGET from 127.0.0.1:PORT over HTTP/1.0; gives up after 2 s.
HttpResponse http_get(int port, const std::string& target);

// The nats-server binary tests run: NatsServerOptions::binary when set, else
// $SLIP_NATS_SERVER (CTest sets it per server of the version matrix, see
// CMakeLists.txt), else `nats-server` from PATH (a test binary run by hand).
// Throws when $SLIP_NATS_SERVER is "untagged": CTest runs tests outside the
// doctest suite "nats" with that value, so a test that starts a server
// without being in the matrix fails instead of running on one server only.
std::string nats_server_binary();

// A nats-server release, as `nats-server --version` prints it.
struct ServerVersion {
  int major = 0, minor = 0, patch = 0;
  std::string text;  // "2.10.27"
  bool at_least(int want_major, int want_minor) const {
    return major != want_major ? major > want_major : minor >= want_minor;
  }
};

// The version of nats_server_binary() (run once per process, also printed
// to stderr so that it is in the test log).
const ServerVersion& nats_server_version();

// True when the matrix's server is at least MAJOR.MINOR; otherwise prints
// "skipped on nats-server X: WHY" through doctest's MESSAGE machinery (to
// stderr) and returns false, for a test to return early.
bool server_has(int major, int minor, const std::string& why);

// N distinct ports that were free on 127.0.0.1 a moment ago (bound to port
// 0 together, read back, then closed). Another process may take one before
// you bind it; callers must be ready to retry.
std::vector<int> free_loopback_ports(std::size_t n);

struct NatsServerOptions {
  // Client authentication: --user/--pass, or --auth (a token).
  std::string user;
  std::string password;
  std::string token;
  // When not empty, written to a file and passed with -c (TLS, nkeys, ...).
  // The command-line flags the fixture adds (-a, -p, -m, -js, -sd) win over
  // the same settings in this text.
  std::string config;
  // 0 picks a free loopback port (and picks again if another process takes
  // it before the server binds it); anything else is used as given.
  int port = 0;
  int monitor_port = 0;
  // The nats-server to run; empty: nats_server_binary().
  std::string binary;
};

// One nats-server with JetStream, listening on 127.0.0.1 only. The
// constructor returns once GET /healthz answers 200, which in 2.9 means the
// client listener is up and JetStream is enabled and has recovered its
// streams (in a cluster: is current with a meta leader).
class NatsServer {
 public:
  explicit NatsServer(NatsServerOptions options = {});
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  std::string url() const;  // "nats://127.0.0.1:PORT", without credentials
  int port() const { return port_; }
  int monitor_port() const { return monitor_port_; }
  // The server's pid (and process group), or -1 after stop() or kill9().
  pid_t pid() const { return pid_; }
  bool running() const;
  const std::string& store_dir() const { return store_dir_; }
  // Everything the server printed, across restarts.
  std::string log() const;

  // SIGTERM, wait up to 5 s, then SIGKILL; reaps the process. No-op when
  // not running.
  void stop();
  // SIGKILL (a crash: no clean JetStream shutdown); reaps the process.
  void kill9();
  // Stops the server if it runs, then starts it again on the same ports with
  // the same store dir, so JetStream data survives; waits for /healthz.
  void restart();

  // GET TARGET (e.g. "/jsz?streams=true") from the monitoring port.
  HttpResponse monitor(const std::string& target) const;

 private:
  friend class NatsCluster;
  enum class Wait { kReady, kNo };
  NatsServer(NatsServerOptions options, Wait wait);

  void start(bool may_pick_ports);
  void spawn();
  void wait_ready();
  void signal_group(int sig) const;
  bool wait_exit(int timeout_ms);
  std::string failure(const std::string& what) const;

  NatsServerOptions options_;
  TempDir dir_;
  std::string store_dir_;
  std::string log_path_;
  std::string config_path_;
  int port_ = 0;
  int monitor_port_ = 0;
  pid_t pid_ = -1;
  long log_offset_ = 0;  // where the current run's output starts in the log
};

// A JetStream cluster of SIZE servers on loopback, named n0, n1, ..., each
// with its own client, cluster and monitoring port, store dir and config
// file (server_name and a cluster block routing to every node). The
// constructor returns once wait_formed() succeeds (about 0.5 s). A restarted
// node is healthy once it has heard from the meta leader: about 2 s in 2.9.
class NatsCluster {
 public:
  explicit NatsCluster(std::size_t size = 3);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // All client URLs, comma separated, as clients take them.
  std::string urls() const;
  std::size_t size() const { return nodes_.size(); }
  // Node I (0-based), to stop, kill9 or restart it.
  NatsServer& node(std::size_t i) { return *nodes_.at(i); }

  // Waits (up to 10 s) until every running node answers /healthz with 200,
  // has routes to every other running node, sees cluster_size == size() in
  // /jsz, and all of them name the same running node as meta leader. After
  // the leader is killed this takes the Raft election timeout (5-10 s in 2.9).
  void wait_formed();
  // The index of the meta leader as the first running node sees it, or -1
  // when it sees none.
  int meta_leader() const;

 private:
  void start_all();

  std::vector<std::unique_ptr<NatsServer>> nodes_;
};

}  // namespace slip::test
