// A durable local fold of a bucket: the deduplicated state plus the cursor
// it is complete up to.
//
// The one way data and cursor change is commit(): the mutations and the
// new cursor become durable together or not at all (the append-log store
// writes data records, then the CURSOR record, then flushes, and rolls the
// file back on failure; the LevelDB store writes one WriteBatch). So the
// cursor never names a revision whose data is missing. See
// docs/fold-stores.md for the on-disk layouts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::fold {

struct Value {
  std::string value;
  VersionToken version;
};

// One change to apply: a put, or a delete (also for NATS purges).
struct Mutation {
  std::string key;
  std::string value;
  VersionToken version;
  bool is_delete = false;
};

// What a fold is a fold of. The first mirror records it; later ones refuse
// to fold another bucket or scope into it, since the result would be a
// fold of neither.
struct Origin {
  std::string bucket;
  std::vector<std::string> prefixes;  // sorted and unique; empty: every key
  // Which stream of that name: its creation time (stream info "created").
  // A bucket deleted and created again under the same name is another
  // stream, whose revisions mean nothing to this fold. 0: not recorded
  // (a fold made before slip recorded it).
  std::int64_t stream_created_ns = 0;
  // Wall time at which the fold was last known caught up with the bucket
  // (a commit, or an idle moment with nothing pending), as last recorded:
  // no later than the real one (the mirror records it from time to time
  // and on a clean stop), so "how long was the fold away" errs long. A
  // fold still catching up records nothing: markers it has not reached may
  // be older than its last commit. 0: not recorded.
  std::int64_t last_commit_ns = 0;
  // A reconcile was due when the fold last ran and has not completed yet:
  // a crash or a stop in between must not let the next start skip it.
  bool reconcile_owed = false;
};

// Whether two origins name the same bucket and scope (the stream identity
// and the time stamps aside).
bool same_scope(const Origin& a, const Origin& b);

// An Origin with its prefixes sorted and made unique: the form recorded
// and compared.
Origin make_origin(std::string bucket, std::vector<std::string> prefixes);

// "bucket B, prefixes a., b." for messages.
std::string describe(const Origin& origin);

// A pull-style scan over live keys in ascending byte order, for walking a
// store in step with another sequence (slip diff merges two of them).
// The views stay valid until the next call to next(). The store must
// outlive the iterator and must not be committed to while it is in use.
class Iterator {
 public:
  virtual ~Iterator() = default;
  // Moves to the next live key (the first one on the first call). Returns
  // false at the end and at an error; status() tells them apart.
  virtual bool next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual const VersionToken& version() const = 0;
  // kCorruption for a damaged record, kIOError for a read error.
  virtual Status status() const = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // The cursor the fold is complete up to; nullopt for a new fold.
  virtual std::optional<VersionToken> cursor() const = 0;

  // Applies MUTATIONS in order and moves the cursor to CURSOR, atomically
  // and durably (fsynced when the store was opened with sync). On failure
  // neither is visible, in memory or after a restart; the caller may retry.
  virtual Status commit(const std::vector<Mutation>& mutations, const VersionToken& cursor) = 0;

  virtual Result<std::optional<Value>> get(std::string_view key) = 0;

  // Live keys starting with PREFIX, in ascending byte order. VISIT returns
  // false to stop early.
  virtual Status scan(
      std::string_view prefix,
      const std::function<bool(std::string_view key, const Value& value)>& visit) = 0;

  // The recorded origin; nullopt for a new fold (or one made before
  // origins were recorded).
  virtual Result<std::optional<Origin>> origin() = 0;
  virtual Status set_origin(const Origin& origin) = 0;
  // The same walk as scan(), pulled one key at a time.
  virtual std::unique_ptr<Iterator> iterate(std::string_view prefix) = 0;

  virtual std::uint64_t size() const = 0;   // live keys
  virtual const char* backend() const = 0;  // "log" or "leveldb"
};

struct Options {
  bool sync = false;  // fsync every commit (the default relies on the fold being a cache)
  // log backend: rewrite the file in canonical form once it is larger than
  // this and more than half of it is dead records. 0: never.
  std::uint64_t compact_threshold = 64ull << 20;
  // LevelDB only: open an existing fold to read it. Nothing is created or
  // initialised (a missing fold or a LevelDB database without slip's format
  // marker is kInvalidArgument), commit() is refused, and the keys are
  // counted on the first call to size() instead of at open. The writer's
  // lock is still taken: LevelDB admits one process at a time, so a fold in
  // use by a running mirror is kIOError. open_log refuses this option.
  bool read_only = false;
  // LevelDB only: the fold starts empty and every key is committed at most
  // once (an import of a verified canonical snapshot), so commits skip the
  // lookup per key that keeps the live-key count exact: half the CPU of a
  // bulk load. Broken, the promise leaves a wrong count, not wrong data.
  bool bulk_load = false;
};

// Opens (creating if absent) an append-log fold at PATH: a PGSS v2 file.
// A torn tail left by a crash is truncated (reported through
// repaired_torn_tail()); a corrupted or invalid file is kCorruption.
// Takes an exclusive lock on PATH.lock; a second writer gets kIOError.
Result<std::unique_ptr<Store>> open_log(const std::string& path, const Options& options);

// Opens (creating if absent) a LevelDB fold in directory PATH.
Result<std::unique_ptr<Store>> open_leveldb(const std::string& path, const Options& options);

// "log" for a regular file, "leveldb" for a directory holding a LevelDB
// fold, nullopt when PATH does not exist.
Result<std::optional<std::string>> detect_backend(const std::string& path);

// Removes the fold at PATH with BACKEND and what lives beside it (the
// origin sidecar, the lock file), for a fold this process created and
// never committed to: a failed first run leaves nothing that looks like a
// fold. Its store must be closed first.
Status remove_new_fold(const std::string& path, const std::string& backend);

}  // namespace slip::fold
