// The Key-Value abstraction of slip: entries, buckets, watchers.
//
// No NATS type appears here; src/nats/ implements these interfaces over
// cnats, and the watch loop, the mirror and the tests meet NATS only
// through them.
//
// Version tokens: a NATS revision is the stream sequence of the message
// that carried the update. A watch cursor is a revision too: "complete up
// to and including this stream sequence".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slip/status.h"

namespace slip::kv {

enum class Operation { kPut, kDelete, kPurge };

// "PUT", "DEL", "PURGE": the names used in JSON output and NATS headers.
const char* operation_name(Operation op);

struct Entry {
  std::string key;
  std::string value;            // empty for DEL/PURGE and for headers-only reads
  std::uint64_t revision = 0;   // stream sequence
  std::int64_t created_ns = 0;  // Unix time in nanoseconds
  std::uint64_t delta = 0;      // updates still pending after this one (watch/scan)
  Operation op = Operation::kPut;
  std::uint64_t value_size = 0;  // payload size, also known for headers-only reads
  // For a marker the server wrote (Nats-Marker-Reason: "MaxAge", "Purge",
  // "Remove"): its reason; empty for every entry a client wrote.
  std::string reason;
};

struct BucketConfig {
  std::string name;
  std::string description;
  int history = 1;                  // 1..64
  std::int64_t max_bytes = -1;      // -1: unlimited
  std::chrono::seconds max_age{0};  // 0: forever
  std::int32_t max_value_size = -1;
  int replicas = 1;
  bool memory_storage = false;
  // Limit markers (nats-server 2.11+): when max_age removes a key's last
  // revision, the server writes a marker that lives this long. Non-zero
  // also allows per-message TTLs (Bucket::create_with_ttl). 0: neither.
  std::chrono::nanoseconds marker_ttl{0};
  bool compress = false;  // s2 compression of the stream (nats-server 2.10+)
  std::map<std::string, std::string> metadata;  // the stream's metadata (2.10+)
  // Placement in a cluster: the cluster's name and the servers' tags.
  std::string placement_cluster;
  std::vector<std::string> placement_tags;
  // Republishing: each stored message is also published to REPUBLISH_DEST
  // (subjects matching REPUBLISH_SOURCE; empty: all). Empty dest: none.
  std::string republish_source;
  std::string republish_dest;
  bool republish_headers_only = false;
  // A mirror of the bucket MIRROR (in the JetStream domain MIRROR_DOMAIN,
  // when given): read-only, with the origin's subjects. Exclusive with
  // SOURCES: buckets whose keys are copied into this one.
  std::string mirror;
  std::string mirror_domain;
  std::vector<std::string> sources;
};

// A stream this one mirrors or sources from, as the server reports it.
struct StreamSource {
  std::string name;              // the stream's name (KV_<bucket> for a bucket)
  std::string external_api;      // its API prefix when in another domain
  std::uint64_t lag = 0;         // messages behind the origin
  std::int64_t active_ns = -1;   // since the origin was last heard from; -1: never
};

// A replica of a clustered bucket's stream.
struct Replica {
  std::string name;
  bool current = false;
  bool offline = false;
  std::uint64_t lag = 0;  // operations behind the leader
};

struct BucketStatus {
  std::string name;
  std::uint64_t values = 0;  // messages in the stream (all revisions kept)
  std::uint64_t bytes = 0;
  int history = 0;
  std::int64_t max_bytes = -1;
  std::chrono::seconds max_age{0};
  int replicas = 1;
  bool memory_storage = false;
  std::uint64_t first_sequence = 0;  // oldest revision still held
  std::uint64_t last_sequence = 0;   // newest revision
  std::uint64_t subjects = 0;        // keys with a revision held (state num_subjects), deletes too
  std::int64_t max_msgs = -1;        // the stream's message limit (-1: none)
  bool discard_old = false;          // at a limit, the oldest messages go (else writes are refused)
  std::int64_t created_ns = 0;       // when the bucket was created: tells a recreated bucket apart
  std::int64_t max_age_ns = 0;       // max_age to the nanosecond (0: forever)
  std::string description;
  std::int32_t max_value_size = -1;
  // Per-message TTLs (the Nats-TTL header) are allowed: nats-server 2.11+.
  bool allow_msg_ttl = false;
  // Limit markers: when the server removes a key's last revision for
  // max_age, it writes a marker (Nats-Marker-Reason) that lives this long;
  // 0: no markers. nats-server 2.11+.
  std::int64_t marker_ttl_ns = 0;
  // A counter stream (nats-server 2.12+): values change only by Nats-Incr
  // increments; slip reads them as they are and does not write them.
  bool allow_msg_counter = false;
  std::string compression = "none";  // "none" or "s2"
  std::string mirror;                // the stream this bucket's stream mirrors, if any
  std::string mirror_external;       // its API prefix when that stream is in another domain
  std::vector<std::string> sources;  // the streams it sources from
  // Lag and liveness of the mirror and of each source, in that order;
  // empty until the server has reported them.
  std::optional<StreamSource> mirror_state;
  std::vector<StreamSource> source_states;
  std::map<std::string, std::string> metadata;  // the user's (not the server's _nats.*)
  std::string placement_cluster;
  std::vector<std::string> placement_tags;
  std::string republish_source;
  std::string republish_dest;
  bool republish_headers_only = false;
  // The stream's raft group in a cluster: empty cluster_name when the
  // server is not clustered.
  std::string cluster_name;
  std::string cluster_leader;
  std::vector<Replica> cluster_replicas;
  // The server's version and JetStream API level as it reports them with
  // stream information (ADR-44); empty and 0 for servers before 2.11.
  std::string server_version;
  int api_level = 0;

  // True when the server may remove a key's revisions without writing
  // anything a watcher sees: max_age or per-message TTLs without limit
  // markers, or (markers or not) per-message TTLs on a bucket that keeps
  // older revisions, where expiry uncovers an older one.
  bool removes_silently() const;
  // True when the stream's own limits (max_msgs, max_bytes with discard
  // old) can evict a key's only revision: nothing a watcher sees either.
  bool evicts_silently() const;
};

// What a watch covers. Empty prefixes: every key. A prefix is a plain byte
// prefix of the key ("node." matches "node.eu-1", "no" matches "node.x").
struct Scope {
  std::vector<std::string> prefixes;
  bool matches(std::string_view key) const;
};

struct WatchOptions {
  Scope scope;
  // Deliver the current value of every matching key first, then live
  // updates (state-sync). false: live updates only.
  bool state_sync = true;
  // Resume after this revision: deliver updates with revision > cursor,
  // delta only (state_sync is then ignored).
  std::optional<std::uint64_t> resume_after;
  // Only keys, revisions and operations; values stay on the server.
  bool headers_only = false;
  // Retention guard, for the every-key scope only: once every revision is
  // being delivered (after the initial state, or when resuming), a jump
  // past the next revision while the bucket's first revision is above it
  // means retention evicted updates before they were delivered. next()
  // then returns kCursorExpired with position() still before the gap,
  // instead of silently skipping them. Costs one stream-info request per
  // gap (purges and history limits also leave gaps). Prefix scopes cannot
  // tell an eviction from a filtered-out revision, so they are not guarded.
  bool detect_eviction = false;
};

// One update handed out by a Watcher.
struct Update {
  Entry entry;
  // True on the update that completes the initial state (or, when
  // resuming, the delta up to the head as of the start).
  bool caught_up = false;
};

// Watches a bucket. Not thread-safe.
//
// Updates are handed out in revision order, each exactly once, across
// reconnects and server restarts: after a disruption the watcher resumes
// after the last revision it handed out. Updates outside the scope are
// consumed but not handed out; position() still moves past them, so a
// cursor taken from position() never makes a later resume skip an update.
class Watcher {
 public:
  virtual ~Watcher() = default;

  // Waits up to TIMEOUT for the next update. Returns nullopt on timeout.
  virtual Result<std::optional<Update>> next(std::chrono::milliseconds timeout) = 0;

  // True once the initial state (or the delta up to the start's head) has
  // been handed out. An empty scope is caught up from the start.
  virtual bool caught_up() const = 0;

  // The stream sequence up to which every update in scope has been handed
  // out (or skipped as out of scope). A caller that has applied every
  // update it received may persist this as its cursor.
  virtual std::uint64_t position() const = 0;

  // Updates the server still holds for this watch beyond position().
  virtual std::uint64_t pending() const = 0;
};

class Bucket {
 public:
  virtual ~Bucket() = default;

  virtual const std::string& name() const = 0;

  // The live value of KEY; kNotFound when absent, deleted or purged.
  virtual Result<Entry> get(std::string_view key) = 0;
  // The latest entry of KEY including delete/purge markers (for CAS).
  virtual Result<Entry> entry(std::string_view key) = 0;

  // Each returns the new revision.
  virtual Result<std::uint64_t> put(std::string_view key, std::string_view value) = 0;
  // kConflict ("already exists") when KEY is live.
  virtual Result<std::uint64_t> create(std::string_view key, std::string_view value) = 0;
  // kConflict ("revision mismatch") when KEY's latest revision is not EXPECTED.
  virtual Result<std::uint64_t> update(std::string_view key, std::string_view value,
                                       std::uint64_t expected) = 0;
  virtual Result<std::uint64_t> del(std::string_view key,
                                    std::optional<std::uint64_t> expected) = 0;
  virtual Result<std::uint64_t> purge(std::string_view key) = 0;

  // create and purge with a per-message TTL (the Nats-TTL header): the
  // revision (the value, or the purge marker) expires after TTL (at least
  // 1 s). Needs nats-server 2.11+ and a bucket that allows per-message
  // TTLs; kInvalidArgument otherwise, naming the server version.
  virtual Result<std::uint64_t> create_with_ttl(std::string_view key, std::string_view value,
                                                std::chrono::nanoseconds ttl) {
    return Status::invalid_argument("per-message TTLs are not supported by this bucket");
  }
  virtual Result<std::uint64_t> purge_with_ttl(std::string_view key,
                                               std::chrono::nanoseconds ttl) {
    return Status::invalid_argument("per-message TTLs are not supported by this bucket");
  }

  // Latest entry of every live key under the scope, in one ordered
  // consumer pass (headers only unless WITH_VALUES). Calls VISIT per entry
  // in revision order; stops early when VISIT returns false.
  virtual Status scan(const Scope& scope, bool with_values,
                      const std::function<bool(const Entry&)>& visit) = 0;

  // Every revision still held for KEY, oldest first.
  virtual Result<std::vector<Entry>> history(std::string_view key) = 0;

  virtual Result<BucketStatus> status() = 0;

  virtual Result<std::unique_ptr<Watcher>> watch(const WatchOptions& options) = 0;
};

// A connection to a KV-capable server.
class Client {
 public:
  virtual ~Client() = default;
  // kNotFound when the bucket does not exist.
  virtual Result<std::unique_ptr<Bucket>> open_bucket(const std::string& name) = 0;
  // kConflict when a bucket with another configuration exists.
  virtual Result<std::unique_ptr<Bucket>> create_bucket(const BucketConfig& config) = 0;
  virtual Status delete_bucket(const std::string& name) = 0;
  virtual Result<std::vector<BucketStatus>> list_buckets() = 0;
};

// NATS naming rules, enforced before anything is sent. Each returns
// kInvalidArgument with a message naming the rule.
Status validate_bucket_name(std::string_view name);
Status validate_key(std::string_view key);
Status validate_prefix(std::string_view prefix);

}  // namespace slip::kv
