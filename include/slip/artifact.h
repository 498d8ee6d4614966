// Export artifacts: a fold made transferable through a Location, and read
// back into a fold or a bucket.
//
// The format and the publication protocol are specified in
// docs/export-artifact.md (installed as slip-artifact(5)). In short, under a
// location prefix, per bucket B:
//
//   B/artifacts/<id>.pgss.zst   payload: the fold in canonical PGSS v2, zstd
//   B/artifacts/<id>.json       manifest: what the payload is, sizes, hashes
//   B/pointer.json              the current manifest (a copy of one of them)
//
// The payload is written first, then its manifest, then the pointer, so a
// crash in between leaves the previous pointer valid. The pointer never
// moves to a lower cursor.
//
// Nothing here prints; progress is reported through callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slip/fold.h"
#include "slip/location.h"
#include "slip/status.h"
#include "slip/version_token.h"

namespace slip::fs {
class TempPath;
}  // namespace slip::fs

namespace slip::artifact {

// 2 adds stream_created; version 1 manifests are still read.
inline constexpr int kSchemaVersion = 2;
// zstd level 1, not zstd's own default of 3: on config-like values it
// compresses about as well (bench/export_bench.sh's 1M-key JSON fold: 22.8%
// of the log at level 1, 23.3% at level 3) in about 60% of the CPU time,
// which a mirror exporting on an edge node pays every --export-every. Highly
// repetitive values do compress better at 3 (bench/make_snapshot's: 6.2%
// against 7.8%). bench/README.md has the figures; --level chooses another.
inline constexpr int kDefaultLevel = 1;

// The manifest of one artifact (JSON; fields in docs/export-artifact.md).
struct Manifest {
  int schema_version = kSchemaVersion;
  std::string slip_version;
  std::string id;  // 32 lowercase hex digits, see artifact_id()
  std::string bucket;
  std::vector<std::string> scope;  // key prefixes; empty: the whole bucket
  VersionToken cursor;
  std::uint64_t entries = 0;
  std::int64_t created_ns = 0;
  // The creation time of the bucket's stream the fold was read from (the
  // fold origin's stream_created_ns): a fold imported from the artifact
  // resyncs against a bucket deleted and created again since. 0: unknown
  // (an artifact of schema 1, or a fold from before identities).
  std::int64_t stream_created_ns = 0;
  std::string payload;      // object key relative to the location prefix
  std::string compression;  // "zstd"
  int compression_level = kDefaultLevel;
  std::string zstd_version;  // of the library that compressed it
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::string compressed_sha256;    // lowercase hex
  std::string uncompressed_sha256;  // lowercase hex

  // Compact JSON with sorted keys plus "manifest_sha256", the SHA-256 of the
  // same JSON without that field: any changed byte is detected on parse.
  std::string to_json() const;
  // kCorruption for anything but a manifest this build wrote or could have
  // written (bad JSON, missing field, wrong manifest_sha256, an id that does
  // not match the content fields or the payload key); kNotSupported for a
  // newer schema version.
  static Result<Manifest> parse(std::string_view json);
};

// The id of an artifact: the first 128 bits, in hex, of the SHA-256 of the
// manifest fields known before compression starts (schema, bucket, scope,
// cursor, entries, uncompressed size and SHA-256, compression, level, zstd
// version). Equal ids mean equal payload bytes.
std::string artifact_id(const Manifest& manifest);

// Object keys of the layout above.
std::string payload_key(const std::string& bucket, const std::string& id);
std::string manifest_key(const std::string& bucket, const std::string& id);
std::string pointer_key(const std::string& bucket);

// Progress of a long step: bytes done of total (0 when unknown).
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct ExportOptions {
  std::string bucket;                 // the bucket the fold mirrors: names the artifact set
  std::vector<std::string> prefixes;  // export only these keys (and record the scope)
  // The stream the fold was read from (fold::Origin::stream_created_ns);
  // 0: read from the store's origin record when it has one.
  std::int64_t stream_created_ns = 0;
  int level = kDefaultLevel;          // zstd level
  int workers = 0;                    // zstd worker threads; 0: one per CPU
  // After publishing: keep the KEEP newest artifacts, delete older ones
  // that were superseded more than GRACE ago. nullopt: never delete.
  std::optional<std::size_t> keep;
  std::chrono::seconds grace{3600};
  // Called after the payload and manifest are stored and before the pointer
  // is written; a non-OK Status stops the export there (e.g. a lost lease).
  std::function<Status()> before_publish;
  Progress compress_progress;  // staging: keys written of the store's live keys (0: unknown)
  Progress progress;           // upload: compressed bytes of the total
  std::string scratch_dir;     // where the staged payload goes; empty: $TMPDIR or /tmp
  // SCRATCH_DIR is the location's staging_dir(): the staged file becomes
  // the stored object, so it is written back to disk as it grows and the
  // fsync before publishing has little left to wait for.
  bool staged_in_location = false;
  std::function<void(const std::string&)> log;  // one line per notable event
  // Polled between chunks while staging and uploading and before the
  // pointer is written: true stops the export with kInterrupted (the
  // pointer unchanged, a multipart upload aborted). Requests in flight are
  // the location's to interrupt (location::Options::interrupted).
  std::function<bool()> interrupted;
};

struct ExportReport {
  Manifest manifest;
  bool reused = false;  // an identical artifact was already stored: no upload
  std::optional<VersionToken> previous_cursor;  // the pointer's before, if any
  std::vector<std::string> pruned;              // ids deleted by --keep
};

// The payload compressed into a scratch file, with its manifest complete
// (id, sizes, both hashes). Staging is the only step that reads the store:
// one ordered scan, hashed and compressed as it streams. The scratch file
// is removed with the object.
class StagedArtifact {
 public:
  StagedArtifact(Manifest manifest, fs::TempPath file);
  ~StagedArtifact();
  StagedArtifact(const StagedArtifact&) = delete;
  StagedArtifact& operator=(const StagedArtifact&) = delete;
  const Manifest& manifest() const { return manifest_; }
  const std::string& path() const;  // empty once adopted
  void adopted();                   // the location took the file: keep it

 private:
  Manifest manifest_;
  std::unique_ptr<fs::TempPath> file_;
};

// Stages the fold's live keys (under the prefixes) and cursor. The store
// must not change during the call (an idle fold, or a mirror between
// commits). Needs scratch space for the compressed payload.
Result<std::unique_ptr<StagedArtifact>> stage(fold::Store& store, const ExportOptions& options);

// The same for a log fold file, read as a file rather than opened as a
// store: no replay into memory, and a file in canonical form (compacted,
// or imported from an artifact) is passed through record by record; what
// was appended since the last compaction is merged in (artifact/
// log_payload.h). The caller holds the fold's lock. kNotSupported when the
// file is damaged: open the store instead (it repairs a torn tail).
Result<std::unique_ptr<StagedArtifact>> stage_log_file(const std::string& path,
                                                       const ExportOptions& options);

// Stages payloads in LOCATION's staging_dir() when it has one (file://:
// the staged file is then renamed into place instead of copied).
Status stage_in_location(location::Location& location, ExportOptions* options);

// Uploads a staged artifact (unless an identical one is stored), writes
// its manifest, then moves the pointer and prunes. Does not need the
// store: a mirror stages between commits and publishes while it goes on.
// A pointer at a higher cursor is kConflict with "superseded" in the
// message, before or after the upload.
Status publish(StagedArtifact& staged, location::Location& location, const ExportOptions& options,
               ExportReport* report);

// Checks the pointer (refusing early when superseded), stage(), publish().
Status export_fold(fold::Store& store, location::Location& location, const ExportOptions& options,
                   ExportReport* report);

// One artifact found under a location.
struct Listing {
  Manifest manifest;
  bool current = false;  // the pointer names it
};

// Buckets that have a pointer under LOCATION, sorted.
Result<std::vector<std::string>> list_buckets(location::Location& location);
// BUCKET's artifacts, oldest cursor first. Unreadable manifests are skipped
// and reported through *SKIPPED when not null.
Result<std::vector<Listing>> list_artifacts(location::Location& location, const std::string& bucket,
                                            std::vector<std::string>* skipped = nullptr);

// The manifest the pointer names (ID empty) or artifact ID's.
Result<Manifest> resolve(location::Location& location, const std::string& bucket,
                         const std::string& id);

// Downloads MANIFEST's payload into a new snapshot file at PATH (which must
// not exist), decompressing as it streams, and checks both SHA-256 hashes,
// the sizes, and the snapshot itself (every record, the entry count and the
// cursor). On any failure PATH is removed; a payload that is not what the
// manifest says is kCorruption.
Status fetch_verified(location::Location& location, const Manifest& manifest,
                      const std::string& path, const Progress& progress);

struct ImportOptions {
  std::string backend = "log";  // "log" or "leveldb"
  bool force = false;           // replace an existing fold (not one in use)
  Progress progress;            // download, then (leveldb) restore
};

// Builds a fold at DEST from MANIFEST's artifact: fetch_verified() into a
// staging path beside DEST, for leveldb a LevelDB fold built from it in a
// staging directory, then a rename into place. DEST is untouched unless
// everything succeeded; an existing DEST is kInvalidArgument without force.
Status import_fold(location::Location& location, const Manifest& manifest, const std::string& dest,
                   const ImportOptions& options);

}  // namespace slip::artifact

namespace slip::kv {
class Bucket;
}

namespace slip::artifact {

struct RestoreReport {
  std::uint64_t entries = 0;    // keys in the artifact
  std::uint64_t written = 0;    // put now
  std::uint64_t unchanged = 0;  // already held the artifact's value: skipped
};

// Puts every key of the verified snapshot at SNAPSHOT (from fetch_verified)
// into BUCKET. Keys whose current value already equals the artifact's are
// skipped, so an interrupted restore can simply be run again. Keys of the
// bucket that the artifact lacks are left alone. Stops at the first failed
// put, with the counts so far in *REPORT.
Status restore_to_bucket(kv::Bucket& bucket, const std::string& snapshot,
                         const std::function<bool()>& stop_requested, const Progress& progress,
                         RestoreReport* report);

}  // namespace slip::artifact
