// Comparing two states of a bucket (slip diff): each side is read as a
// stream of live entries in ascending bytewise key order, and compare()
// walks the two in step, reporting every difference in key order.
//
// A Source is one side: a snapshot file, a LevelDB fold, a live bucket
// (and an exported artifact, whose payload is a canonical snapshot stream:
// see canonical_snapshot_stream). Sources hand out keys and versions; a
// value is fetched only when compare() or its caller asks for it, so
// sources that keep values elsewhere (a file read by offset, a server)
// never load values that are not needed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "slip/kv.h"
#include "slip/snapshot_reader.h"
#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::fold {
class Store;
}

namespace slip::diff {

// One side of a comparison. Not thread-safe.
class Source {
 public:
  virtual ~Source() = default;

  // Moves to the next live entry (the first one on the first call).
  // Returns false at the end. Keys come in strictly ascending byte order;
  // a source that finds otherwise returns kCorruption. Damaged input is
  // kCorruption, a failed read kIOError or kUnavailable.
  virtual Result<bool> next() = 0;

  // The current entry, after next() returned true. Views stay valid until
  // the next call to next().
  virtual std::string_view key() const = 0;
  virtual const VersionToken& version() const = 0;
  virtual std::uint64_t value_size() const = 0;
  // The value, fetched on the first call for the current entry (a read
  // from a file, a request to a server, or a view of bytes in hand).
  virtual Result<std::string_view> value() = 0;

  // The cursor the source's data is complete up to, when it has one. A
  // stream may learn it only at its end (a snapshot's CURSOR record comes
  // last), so ask once next() has returned false.
  virtual std::optional<VersionToken> cursor() const = 0;
};

// A snapshot file (PGSS v2; also a log fold). The whole file is checked
// before the first entry is handed out, so a damaged file (invalid,
// corrupted, or ending in a torn tail) is kCorruption here and never half
// a diff. A canonical file (keys ascending, no deletes: what `slip snapshot
// compact` writes) is then streamed in constant memory; any other file is
// indexed (the key and offset of every record in memory, about 64 bytes
// plus the key per record; values read from the file when asked for). An empty file (a log fold
// before its first commit) is an empty source. Only keys in SCOPE are handed out.
Result<std::unique_ptr<Source>> open_snapshot_file(const std::string& path, const kv::Scope& scope);

// A snapshot file streamed at once, without the whole-file check, for a
// caller that holds its output until the end (so damage found part way
// still prints nothing) and can start over: one read of the file instead of
// two. Damage is kCorruption from next(); a file found not to be canonical
// (a DELETE, a key out of order, a record after the cursor) is
// kNotSupported from next(), meaning "use open_snapshot_file instead"; so is
// an empty file (an empty log fold), here at once.
Result<std::unique_ptr<Source>> stream_snapshot_file(const std::string& path,
                                                     const kv::Scope& scope);

// The entries of a snapshot stream that must be in canonical form, as they
// arrive: for payloads that can be read only once (an exported artifact,
// decompressed). Damage, a DELETE, a key out of order or a record after
// the CURSOR is kCorruption from next(), so a diff over a damaged stream
// fails part way.
std::unique_ptr<Source> canonical_snapshot_stream(std::unique_ptr<snapshot::Reader> reader,
                                                  const kv::Scope& scope);

// A LevelDB fold directory, opened read-only (fold::Options::read_only): a
// fold in use by a running mirror is kIOError. Nothing is loaded; the walk
// seeks to each prefix of SCOPE.
Result<std::unique_ptr<Source>> open_leveldb_fold(const std::string& path, const kv::Scope& scope);
// The same over a store already open (to compare a fold with itself).
std::unique_ptr<Source> fold_source(std::shared_ptr<fold::Store> store, const kv::Scope& scope);

// A live bucket. The live keys in SCOPE are listed in one headers-only
// pass and sorted (keys in memory); a value is then fetched with one get
// per key when asked for. PREFETCH_VALUES transfers every value in the
// listing pass instead (values in memory), for comparisons that need
// nearly all of them. The cursor is the stream's last revision when the
// listing started. The bucket is read while it may change: a key deleted
// between the listing and a get is kUnavailable ("changed while read").
// BUCKET must outlive the source.
Result<std::unique_ptr<Source>> open_bucket(kv::Bucket& bucket, const kv::Scope& scope,
                                            bool prefetch_values);

enum class Change {
  kAdded,     // only in B
  kRemoved,   // only in A
  kChanged,   // in both, different values
  kRevision,  // in both, the same value at different revisions
};

// "added", "removed", "changed", "revision": the names used in JSON.
const char* change_name(Change change);

struct Side {
  VersionToken version;
  std::optional<std::string_view> value;  // when Options::values
};

struct Difference {
  Change change = Change::kChanged;
  std::string_view key;
  std::optional<Side> a;  // absent for kAdded
  std::optional<Side> b;  // absent for kRemoved
};

struct Options {
  // Compare values only: keys whose values are equal are equal, whatever
  // their revisions (a restored bucket has new ones).
  bool ignore_revisions = false;
  // Hand each difference its values (fetched where needed).
  bool values = false;
};

struct Stats {
  std::uint64_t keys_a = 0;
  std::uint64_t keys_b = 0;
  std::uint64_t added = 0;
  std::uint64_t removed = 0;
  std::uint64_t changed = 0;
  std::uint64_t revision = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t differences() const { return added + removed + changed + revision; }
};

// Walks A and B in step and calls ON_DIFFERENCE for every key that differs,
// in ascending key order; the views in a Difference live until the
// callback returns. A key in both is compared as follows:
// - by default, by version first: equal versions (of non-zero width) with
//   equal value sizes are equal entries, since a revision names one write
//   to the bucket, and no value is fetched. Otherwise the values are
//   fetched: equal values at different versions are kRevision, different
//   values kChanged.
// - with ignore_revisions, by value: different sizes or bytes are
//   kChanged, anything else is equal.
// An error from a source or from ON_DIFFERENCE stops the walk and is
// returned.
Result<Stats> compare(Source& a, Source& b, const Options& options,
                      const std::function<Status(const Difference&)>& on_difference);

}  // namespace slip::diff
