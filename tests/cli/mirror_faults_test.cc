// `slip mirror` under faults, with the real binary, real nats-server
// processes and real files: a server restarted under a running mirror, the
// connected node of a 3-node cluster killed, and a fold on a full
// filesystem (a 2 MiB tmpfs; needs root).
//
// The writes come from a thread of this process with its own cnats
// connection, paced so that they overlap the fault, and retried through it.
// Convergence is awaited, not slept for: the last value written shows up in
// the fold's files (the log backend appends it raw; the LevelDB backend's
// write-ahead log holds the raw WriteBatch, and these folds are far too
// small for LevelDB to move it into a table). It is committed in the same
// atomic step as a cursor at or past its revision, so the mirror, stopped
// with SIGTERM once it is there, must leave cursor == head and fold ==
// bucket.
#include <doctest/doctest.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

#include "nats/handles.h"
#include "slip/exit_codes.h"
#include "slip/fold.h"
#include "slip/snapshot.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::BackgroundProcess;
using slip::test::fold_model;
using slip::test::NatsServer;
using slip::test::put_value;
using slip::test::run_slip;
using slip::test::wait_until;
namespace ec = slip::exit_code;
using namespace std::chrono_literals;
using Model = std::map<std::string, std::string>;

namespace {

using slip::nats::ConnectionPtr;
using slip::nats::Deleter;
using slip::nats::JsCtxPtr;
using slip::nats::OptionsPtr;
using slip::nats::StreamInfoPtr;
using KvStorePtr = std::unique_ptr<kvStore, Deleter<kvStore_Destroy>>;
using KvEntryPtr = std::unique_ptr<kvEntry, Deleter<kvEntry_Destroy>>;

// The value written to key k<I>: unique, and no value is a prefix of another.
std::string value_of(int i, std::size_t size) {
  std::string v = "value-" + std::to_string(1000000 + i) + ".";
  if (v.size() < size) v.resize(size, 'x');
  return v;
}

// A cnats connection to URLS (comma separated, tried in order) that
// reconnects forever, and the bucket's KV handle. Connecting is retried for
// up to 20 s; handles() is null when it never succeeded.
class KvHandle {
 public:
  KvHandle(const std::string& urls, const std::string& bucket) {
    std::vector<std::string> servers;
    for (std::size_t at = 0; at <= urls.size();) {
      std::size_t comma = std::min(urls.find(',', at), urls.size());
      servers.push_back(urls.substr(at, comma - at));
      at = comma + 1;
    }
    std::vector<const char*> ptrs;
    for (const auto& s : servers) ptrs.push_back(s.c_str());
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    OptionsPtr opts(o);
    natsOptions_SetServers(o, ptrs.data(), static_cast<int>(ptrs.size()));
    natsOptions_SetNoRandomize(o, true);
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 100);
    natsOptions_SetTimeout(o, 1000);
    wait_until(
        [&] {
          natsConnection* nc = nullptr;
          if (natsConnection_Connect(&nc, o) != NATS_OK) return false;
          nc_.reset(nc);
          jsOptions jo;
          jsOptions_Init(&jo);
          jo.Wait = 2000;  // a put during a leader election fails fast and is retried
          jsCtx* js = nullptr;
          if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK) return false;
          js_.reset(js);
          kvStore* kv = nullptr;
          if (js_KeyValue(&kv, js, bucket.c_str()) != NATS_OK) return false;
          kv_.reset(kv);
          return true;
        },
        20s);
  }
  kvStore* kv() const { return kv_.get(); }
  jsCtx* js() const { return js_.get(); }

 private:
  ConnectionPtr nc_;
  JsCtxPtr js_;
  KvStorePtr kv_;
};

struct WriterOptions {
  std::string urls;
  std::string bucket;
  int count = 0;               // puts k1..k<count>, each a new key
  std::size_t value_size = 0;  // 0: just the unique part
  bool deletes = false;        // also delete k<i-5> after every tenth put
  std::chrono::microseconds pace{2000};
};

// Writes from its own thread, retrying every operation until it succeeds
// (a server restart or a leader election only delays it). With DELETES,
// k1..k4 are never deleted, so the stream keeps its first revisions and a
// resumed mirror sees no expired cursor.
class Writer {
 public:
  explicit Writer(WriterOptions o) : o_(std::move(o)), thread_([this] { run(); }) {}
  ~Writer() {
    stop_ = true;
    join();
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  int written() const { return written_.load(); }
  // After join(): empty when every operation succeeded.
  const std::string& error() const { return error_; }
  std::string last_value() const { return value_of(o_.count, o_.value_size); }

 private:
  void run() {
    KvHandle h(o_.urls, o_.bucket);
    if (h.kv() == nullptr) {
      error_ = "writer: cannot open bucket " + o_.bucket + " at " + o_.urls;
      return;
    }
    auto retry = [&](const std::function<natsStatus()>& op, const std::string& what) {
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      for (;;) {
        natsStatus s = op();
        if (s == NATS_OK) return true;
        if (stop_ || std::chrono::steady_clock::now() > deadline) {
          error_ = "writer: " + what + ": " + natsStatus_GetText(s);
          return false;
        }
        std::this_thread::sleep_for(20ms);  // the server is not back yet
      }
    };
    for (int i = 1; i <= o_.count; ++i) {
      const std::string key = "k" + std::to_string(i);
      const std::string value = value_of(i, o_.value_size);
      if (!retry([&] { return kvStore_PutString(nullptr, h.kv(), key.c_str(), value.c_str()); },
                 "put " + key))
        return;
      if (o_.deletes && i % 10 == 0) {
        const std::string gone = "k" + std::to_string(i - 5);
        if (!retry([&] { return kvStore_Delete(h.kv(), gone.c_str()); }, "delete " + gone)) return;
      }
      written_ = i;
      std::this_thread::sleep_for(o_.pace);  // spreads the writes over the fault
    }
  }

  WriterOptions o_;
  std::atomic<bool> stop_{false};
  std::atomic<int> written_{0};
  std::string error_;
  std::thread thread_;
};

struct BucketEntry {
  std::string value;
  std::uint64_t revision = 0;
};

struct BucketState {
  std::map<std::string, BucketEntry> entries;  // live keys
  std::uint64_t head = 0;                      // the stream's last sequence

  Model model() const {
    Model m;
    for (const auto& [k, e] : entries) m.emplace(k, e.value);
    return m;
  }
  // The live keys of the bucket as of revision CURSOR, for a bucket whose
  // every key was written once and never deleted.
  Model model_at(std::uint64_t cursor) const {
    Model m;
    for (const auto& [k, e] : entries) {
      if (e.revision <= cursor) m.emplace(k, e.value);
    }
    return m;
  }
};

// Reads the bucket with plain cnats (no slip code). Retried for up to 30 s:
// right after a node loss the stream may still be electing a leader.
BucketState read_bucket(const std::string& urls, const std::string& bucket) {
  KvHandle h(urls, bucket);
  REQUIRE_MESSAGE(h.kv() != nullptr, "cannot open bucket " << bucket << " at " << urls);
  BucketState state;
  std::string failure;
  auto read = [&] {
    state = {};
    kvKeysList keys{};
    natsStatus s = kvStore_Keys(&keys, h.kv(), nullptr);
    if (s != NATS_OK && s != NATS_NOT_FOUND) {
      failure = std::string("keys: ") + natsStatus_GetText(s);
      return false;
    }
    std::unique_ptr<kvKeysList, Deleter<kvKeysList_Destroy>> owner(&keys);
    for (int i = 0; i < keys.Count; ++i) {
      kvEntry* e = nullptr;
      s = kvStore_Get(&e, h.kv(), keys.Keys[i]);
      KvEntryPtr entry(e);
      if (s != NATS_OK) {
        failure = std::string("get ") + keys.Keys[i] + ": " + natsStatus_GetText(s);
        return false;
      }
      state.entries[keys.Keys[i]] = {
          std::string(static_cast<const char*>(kvEntry_Value(e)), kvEntry_ValueLen(e)),
          kvEntry_Revision(e)};
    }
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_GetStreamInfo(&si, h.js(), ("KV_" + bucket).c_str(), nullptr, &jerr);
    StreamInfoPtr info(si);
    if (s != NATS_OK) {
      failure = std::string("stream info: ") + natsStatus_GetText(s);
      return false;
    }
    state.head = si->State.LastSeq;
    return true;
  };
  REQUIRE_MESSAGE(wait_until(read, 30s), "cannot read bucket " << bucket << ": " << failure);
  return state;
}

// Whether NEEDLE occurs in the fold at PATH: in the file (log backend) or
// in any file of the directory (LevelDB).
bool fold_bytes_contain(const std::string& path, const std::string& needle) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return slip::test::file_exists(path) &&
           slip::test::read_file(path).find(needle) != std::string::npos;
  }
  for (const auto& f : std::filesystem::directory_iterator(path, ec)) {
    if (f.is_regular_file(ec) &&
        slip::test::read_file(f.path().string()).find(needle) != std::string::npos)
      return true;
  }
  return false;
}

// The mirror's last line: "slip: mirror: applied N updates, K keys, cursor C..."
std::uint64_t final_cursor(const std::string& err) {
  const std::string tag = ", cursor ";
  auto at = err.rfind(tag);
  if (at == std::string::npos) return 0;
  return std::stoull(err.substr(at + tag.size()));
}

std::string fold_path(const slip::test::TempDir& dir, const std::string& backend) {
  return dir.file(backend == "log" ? "fold.snap" : "fold.ldb");
}

// A tmpfs of SIZE mounted on a new directory DIR, unmounted (lazily if
// still busy) at scope exit. Fails the test when it cannot be mounted:
// the test needs root (CAP_SYS_ADMIN), as in CI.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    const std::string data = "size=" + size;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, data.c_str()) != 0) {
      FAIL("cannot mount a " << size << " tmpfs on " << dir << ": " << std::strerror(errno)
                             << " (this test needs root, CAP_SYS_ADMIN)");
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (mounted_ && ::umount(dir_.c_str()) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

 private:
  std::string dir_;
  bool mounted_ = false;
};

// What the log fold at PATH holds right now, read without its lock while
// a mirror appends to it (a record being written shows as a torn tail).
slip::snapshot::State replay_live(const std::string& path) {
  auto state = slip::snapshot::replay(path);
  REQUIRE_MESSAGE(state.is_ok(), state.status().to_string());
  return std::move(*state);
}

std::uint64_t cursor_of(const slip::snapshot::State& s) {
  return s.cursor ? *s.cursor->revision() : 0;
}

Model model_of(const slip::snapshot::State& s) {
  Model m;
  for (const auto& [k, v] : s.entries) m.emplace(k, v.value);
  return m;
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The end of every recovery test: waits up to TIMEOUT for the fold at PATH
// to hold LAST_VALUE (the writer's last write), then checks that the mirror
// is the process started at the beginning (it recovered, nobody restarted
// it), stops on SIGTERM with exit 0 reporting the bucket's head as its
// cursor, and left a fold that is exactly the bucket at its head.
// DIAGNOSTICS is shown when the wait times out. Returns the fold.
Model converge_and_stop(BackgroundProcess& mirror, const std::string& path,
                        const std::string& err_path, const std::string& last_value,
                        const BucketState& bucket, std::chrono::seconds timeout,
                        const std::function<std::string()>& diagnostics) {
  REQUIRE_MESSAGE(wait_until([&] { return fold_bytes_contain(path, last_value); }, timeout),
                  diagnostics());
  CHECK(mirror.running());
  CHECK(mirror.stop(SIGTERM) == ec::kOk);
  const std::string err = slip::test::read_file(err_path);
  CAPTURE(err);
  CHECK(final_cursor(err) == bucket.head);
  std::uint64_t cursor = 0;
  Model fold = fold_model(path, &cursor);
  CHECK(cursor == bucket.head);
  CHECK(fold == bucket.model());
  return fold;
}

}  // namespace

TEST_CASE("mirror faults: a nats-server restarted under a running mirror, both backends" * doctest::test_suite("nats")) {
  for (const std::string backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    NatsServer server;
    REQUIRE(run_slip({"kv", "add", "rs", "-s", server.url()}).exit_code == 0);
    slip::test::TempDir dir;
    const std::string path = fold_path(dir, backend);
    BackgroundProcess mirror(
        {SLIP_BINARY, "mirror", "rs", "--to", path, "--backend", backend, "-s", server.url()},
        dir.file("mirror.out"));
    const std::string err_path = dir.file("mirror.out.err");
    Writer writer({server.url(), "rs", 600, 0, /*deletes=*/true, 2ms});
    // Mid-mirror: the mirror has committed some of the writes.
    REQUIRE_MESSAGE(wait_until([&] { return fold_bytes_contain(path, value_of(100, 0)); }, 30s),
                    slip::test::read_file(err_path));
    // The log fold gets a clean shutdown, the LevelDB one a crash of the
    // server; both come back on the same port with the same store.
    if (backend == "log") {
      server.restart();
    } else {
      server.kill9();
      server.restart();
    }
    const int written_at_restart = writer.written();
    writer.join();
    REQUIRE_MESSAGE(writer.error().empty(), writer.error());
    CHECK(written_at_restart < 600);  // the restart did land mid-writes
    const BucketState bucket = read_bucket(server.url(), "rs");
    const Model fold =
        converge_and_stop(mirror, path, err_path, writer.last_value(), bucket, 60s,
                          [&] { return slip::test::read_file(err_path) + server.log(); });
    CHECK(fold.size() == 600 - 60);  // every tenth put deleted a key
  }
}

TEST_CASE("mirror faults: losing the connected node of a 3-node cluster with an R3 bucket" * doctest::test_suite("nats")) {
  slip::test::NatsCluster cluster(3);
  auto add = run_slip({"kv", "add", "r3", "--replicas", "3", "-s", cluster.urls()});
  REQUIRE_MESSAGE(add.exit_code == 0, add.err);
  slip::test::TempDir dir;
  const std::string path = dir.file("fold.snap");
  // slip connects to the first URL it is given: node 0.
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "r3", "--to", path, "-s", cluster.urls()},
                           dir.file("mirror.out"));
  const std::string err_path = dir.file("mirror.out.err");
  const std::string survivors = cluster.node(1).url() + "," + cluster.node(2).url();
  Writer writer({survivors, "r3", 400, 0, /*deletes=*/true, 2ms});
  REQUIRE_MESSAGE(wait_until([&] { return fold_bytes_contain(path, value_of(100, 0)); }, 30s),
                  slip::test::read_file(err_path));
  cluster.node(0).kill9();
  const int written_at_kill = writer.written();
  writer.join();
  REQUIRE_MESSAGE(writer.error().empty(), writer.error());
  CHECK(written_at_kill < 400);
  const BucketState bucket = read_bucket(survivors, "r3");
  // Catching up takes a few seconds to a few tens after the kill: the
  // cluster elects new leaders, and cnats' own attempt to recreate the
  // ordered consumer right after the reconnect can get no answer (it would
  // retry only ~20 s later); the watcher checks a stalled consumer every
  // 2 s after a reconnect and rebuilds it (src/nats/watcher.cc).
  const Model fold = converge_and_stop(mirror, path, err_path, writer.last_value(), bucket, 90s,
                                       [&] { return slip::test::read_file(err_path); });
  CHECK(fold.size() == 400 - 40);
}

TEST_CASE("mirror faults: a full filesystem re-queues the batch; freeing space lets it through") {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "full", "-s", server.url()}).exit_code == 0);
  slip::test::TempDir dir;
  TmpfsMount mount(dir.file("small"), "2m");
  // Fill all but ~200 KiB of the 2 MiB, so the fold runs out of space soon.
  const std::string filler = dir.file("small/filler");
  slip::test::write_file(filler, std::string((2048 - 200) << 10, 'f'));
  const std::string path = dir.file("small/fold.snap");
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "full", "--to", path, "-s", server.url()},
                           dir.file("mirror.out"));
  const std::string err_path = dir.file("mirror.out.err");
  // 200 x 2000 B: about twice the space left.
  Writer writer({server.url(), "full", 200, 2000, /*deletes=*/false, 1ms});
  writer.join();
  REQUIRE_MESSAGE(writer.error().empty(), writer.error());
  const BucketState bucket = read_bucket(server.url(), "full");
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        return slip::test::read_file(err_path).find(
                                   "store commit failed (attempt 2)") != std::string::npos;
                      },
                      30s),
                  slip::test::read_file(err_path));
  CHECK(slip::test::read_file(err_path).find("No space left on device") != std::string::npos);
  // While commits fail, the fold is exactly the bucket as of its cursor.
  const slip::snapshot::State failing = replay_live(path);
  CHECK(cursor_of(failing) < bucket.head);
  CHECK(model_of(failing) == bucket.model_at(cursor_of(failing)));
  std::filesystem::remove(filler);
  converge_and_stop(mirror, path, err_path, writer.last_value(), bucket, 30s,
                    [&] { return slip::test::read_file(err_path); });
}

TEST_CASE("mirror faults: a fold on a full filesystem stops after 16 failed commits in a row" * doctest::test_suite("nats")) {
  NatsServer server;
  REQUIRE(run_slip({"kv", "add", "full", "-s", server.url()}).exit_code == 0);
  slip::test::TempDir dir;
  TmpfsMount mount(dir.file("small"), "2m");
  const std::string path = dir.file("small/fold.snap");
  BackgroundProcess mirror({SLIP_BINARY, "mirror", "full", "--to", path, "-s", server.url()},
                           dir.file("mirror.out"));
  const std::string err_path = dir.file("mirror.out.err");
  // 800 x 4000 B = 3.2 MB, paced so that the mirror commits a number of
  // batches before the 2 MiB run out.
  Writer writer({server.url(), "full", 800, 4000, /*deletes=*/false, 2ms});
  writer.join();
  REQUIRE_MESSAGE(writer.error().empty(), writer.error());
  const BucketState bucket = read_bucket(server.url(), "full");
  REQUIRE(bucket.head == 800);
  // Each key was written once, at revision <n>, so the bucket as of a
  // cursor C is k1..kC: the persisted cursor must never get ahead of it.
  auto check_fold = [&](const slip::snapshot::State& s) {
    const std::uint64_t cursor = cursor_of(s);
    CAPTURE(cursor);
    CHECK(cursor > 0);  // some batches went through before the disk filled
    CHECK(cursor < bucket.head);
    CHECK(model_of(s) == bucket.model_at(cursor));
  };
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        return slip::test::read_file(err_path).find(
                                   "store commit failed (attempt 3)") != std::string::npos;
                      },
                      30s),
                  slip::test::read_file(err_path));
  check_fold(replay_live(path));
  // The retries back off from 100 ms up to 5 s: 16 attempts take ~51 s.
  const int code = mirror.wait(90s);
  const std::string err = slip::test::read_file(err_path);
  CAPTURE(err);
  CHECK(code == ec::kUnavailable);
  CHECK(count_of(err, "store commit failed (attempt ") == 15);
  CHECK(err.find("mirror stopped after 16 failed commits in a row") != std::string::npos);
  CHECK(err.find("No space left on device") != std::string::npos);
  // The failed appends were rolled back: the file ends with the last
  // cursor, no torn tail, and holds exactly the bucket as of that cursor.
  const slip::snapshot::State after = replay_live(path);
  CHECK(after.problem.damage == slip::snapshot::Damage::kNone);
  check_fold(after);
  CHECK(final_cursor(err) == cursor_of(after));
}
