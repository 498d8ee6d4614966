// export_fold: the canonical payload, compressed and hashed into a staged
// file as it streams, then the upload, the manifest, the pointer, and
// pruning. The protocol is in docs/export-artifact.md.
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "artifact/chunk_pipe.h"
#include "artifact/codec.h"
#include "artifact/common.h"
#include "artifact/log_payload.h"
#include "core/text.h"
#include "core/time_format.h"
#include "fs/io.h"
#include "fs/temp_path.h"
#include "slip/artifact.h"
#include "slip/kv.h"
#include "slip/snapshot_reader.h"
#include "slip/snapshot_writer.h"

#ifndef SLIP_VERSION
#define SLIP_VERSION "unknown"
#endif

namespace slip::artifact {

namespace {

constexpr std::size_t kChunk = 1 << 20;
constexpr int kPublishAttempts = 8;

// Sorted prefixes with those already covered by a shorter one removed, so
// that scanning them in order yields every key once, in ascending order.
std::vector<std::string> disjoint_prefixes(std::vector<std::string> prefixes) {
  if (prefixes.empty()) return {""};
  std::sort(prefixes.begin(), prefixes.end());
  std::vector<std::string> out;
  for (const std::string& p : prefixes) {
    if (!out.empty() && p.compare(0, out.back().size(), out.back()) == 0) continue;
    out.push_back(p);
  }
  return out;
}

// Writes the canonical PGSS v2 form of the store's keys under PREFIXES plus
// CURSOR to SINK in chunks of about kChunk bytes. Returns the entry count.
// A pull iterator: no copy of each value, and LevelDB's block cache is left
// alone (a full walk would only evict what point reads cached).
Result<std::uint64_t> emit_canonical(fold::Store& store, const std::vector<std::string>& prefixes,
                                     const VersionToken& cursor, const Sink& sink,
                                     const std::function<void(std::uint64_t)>& entries_done) {
  std::string buf;
  buf.reserve(kChunk + 4096);
  snapshot::encode_header(&buf);
  std::uint64_t entries = 0;
  for (const std::string& prefix : disjoint_prefixes(prefixes)) {
    auto it = store.iterate(prefix);
    while (it->next()) {
      snapshot::encode_put(&buf, it->key(), it->value(), it->version());
      ++entries;
      if (buf.size() >= kChunk) {
        if (entries_done) entries_done(entries);
        SLIP_RETURN_IF_ERROR(sink(buf.data(), buf.size()));
        buf.clear();
      }
    }
    SLIP_RETURN_IF_ERROR(it->status());
  }
  snapshot::encode_cursor(&buf, cursor);
  SLIP_RETURN_IF_ERROR(sink(buf.data(), buf.size()));
  return entries;
}

// kInterrupted when O's interrupted() says so.
Status check_interrupted(const ExportOptions& o) {
  if (o.interrupted && o.interrupted()) return Status::interrupted("export interrupted");
  return Status::ok();
}

// A fold that has never been complete up to any cursor.
Status no_cursor_to_export() {
  return Status::invalid_argument(
      "the fold has no cursor yet: nothing to export (let 'slip mirror' catch up first)");
}

void log(const ExportOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

Status superseded(const Manifest& current, const VersionToken& ours) {
  return Status::conflict("superseded: the pointer of bucket " + current.bucket +
                          " already names cursor " + current.cursor.display() + " (artifact " +
                          current.id + "), newer than this export's cursor " + ours.display());
}

// Uploads the staged file, checking on the way that it still has the
// staged SHA-256 (a damaged scratch disk is not published).
Status upload_staged(const StagedArtifact& staged, location::Location& loc,
                     const ExportOptions& o) {
  const Manifest& m = staged.manifest();
  int fd = ::open(staged.path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + staged.path());
  struct Fd {
    int fd;
    ~Fd() { ::close(fd); }
  } guard{fd};
  auto upload = loc.upload(m.payload);
  if (!upload) return upload.status().with_context("upload " + m.payload);
  location::Upload& up = **upload;
  Sha256 hash;
  std::string buf(kChunk, '\0');
  Status s;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::from_errno(errno, "read " + staged.path());
      break;
    }
    if (n == 0) break;
    hash.update(buf.data(), static_cast<std::size_t>(n));
    s = check_interrupted(o);
    if (s) s = up.write(buf.data(), static_cast<std::size_t>(n));
    if (!s) break;
    if (o.progress) o.progress(hash.bytes(), m.compressed_size);
  }
  if (s && (hash.bytes() != m.compressed_size || hash.hex_digest() != m.compressed_sha256))
    s = Status::io_error("the staged payload " + staged.path() + " changed on disk");
  if (s) s = up.finish();
  if (!s) {
    up.abort();
    return s.with_context("upload " + m.payload);
  }
  return Status::ok();
}

// Moves the staged file into place where the location allows it (no copy;
// nothing to re-check, the file never left this machine), else uploads it.
Status store_payload(StagedArtifact& staged, location::Location& loc, const ExportOptions& o) {
  if (staged.path().empty()) return Status::ok();  // adopted by an earlier publish
  Status s = loc.adopt(staged.manifest().payload, staged.path());
  if (s) {
    staged.adopted();
    return s;
  }
  if (s.kind() != StatusKind::kNotSupported)
    return s.with_context("store " + staged.manifest().payload);
  return upload_staged(staged, loc, o);
}

// The pointer's manifest and etag; nullopt when there is no pointer.
Result<std::optional<Manifest>> read_pointer(location::Location& loc, const std::string& bucket,
                                             std::string* etag) {
  auto text = loc.get_small(pointer_key(bucket), etag);
  if (!text && text.status().kind() == StatusKind::kNotFound) return std::optional<Manifest>();
  if (!text) return text.status();
  auto m = Manifest::parse(*text);
  if (!m) {
    return m.status().with_context(
        pointer_key(bucket) + " under " + loc.display() +
        " (remove the damaged pointer to publish again; artifacts stay listed)");
  }
  return std::optional<Manifest>(std::move(*m));
}

Status move_pointer(location::Location& loc, const Manifest& m, const std::string& json,
                    ExportReport* report) {
  const bool conditional = loc.supports_conditional_writes();
  for (int attempt = 0; attempt < kPublishAttempts; ++attempt) {
    std::string etag;
    auto current = read_pointer(loc, m.bucket, &etag);
    if (!current) return current.status();
    if (*current) {
      if (attempt == 0) report->previous_cursor = (*current)->cursor;
      if (compare_cursors((*current)->cursor, m.cursor) > 0) return superseded(**current, m.cursor);
      if ((*current)->id == m.id) return Status::ok();
    }
    location::Precondition pre = location::Precondition::none();
    if (conditional) {
      pre =
          *current ? location::Precondition::if_match(etag) : location::Precondition::create_only();
    }
    // An interrupted PUT may still have been applied: once sent, it runs
    // to its answer (the reads before it stay interruptible).
    loc.set_interruptible(false);
    Status s = loc.put_small(pointer_key(m.bucket), json, pre);
    loc.set_interruptible(true);
    if (s.kind() == StatusKind::kConflict) continue;  // someone published meanwhile: look again
    return s.with_context("publish " + pointer_key(m.bucket));
  }
  return Status::conflict("publish " + pointer_key(m.bucket) + ": the pointer kept changing (" +
                          std::to_string(kPublishAttempts) + " attempts); run the export again");
}

}  // namespace

int compare_cursors(const VersionToken& a, const VersionToken& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.bytes().compare(b.bytes());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

Status prune(location::Location& loc, const std::string& bucket, std::size_t keep,
             std::chrono::seconds grace, std::vector<std::string>* pruned,
             const std::function<void(const std::string&)>& log_line) {
  std::string etag;
  auto pointer = read_pointer(loc, bucket, &etag);
  if (!pointer) return pointer.status();
  if (!*pointer) return Status::ok();
  const Manifest& target = **pointer;

  std::vector<std::string> skipped;
  auto listed = list_artifacts(loc, bucket, &skipped);
  if (!listed) return listed.status();
  for (const std::string& s : skipped) {
    if (log_line) log_line("prune: left alone: " + s);
  }
  // Newest first.
  std::vector<Manifest> all;
  for (Listing& l : *listed) all.push_back(std::move(l.manifest));
  std::reverse(all.begin(), all.end());
  const std::int64_t now = now_unix_ns();
  const std::int64_t grace_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(grace).count();
  std::set<std::string> known;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Manifest& m = all[i];
    known.insert(m.id);
    if (i < keep || m.id == target.id || compare_cursors(m.cursor, target.cursor) >= 0) continue;
    // It stopped being current at the latest when the next newer artifact
    // was made; a reader that saw it named then has GRACE to finish.
    const std::int64_t superseded_at = all[i - 1].created_ns;
    if (now - superseded_at < grace_ns) continue;
    SLIP_RETURN_IF_ERROR(loc.remove(manifest_key(bucket, m.id)));
    SLIP_RETURN_IF_ERROR(loc.remove(m.payload));
    if (pruned) pruned->push_back(m.id);
  }
  // Payloads without a manifest: an export that died between the two.
  auto objects = loc.list(bucket + "/artifacts/");
  if (!objects) return objects.status();
  const std::string suffix = ".pgss.zst";
  for (const location::ObjectInfo& o : *objects) {
    if (o.key.size() <= suffix.size() ||
        o.key.compare(o.key.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string name = o.key.substr(bucket.size() + 11);  // after "B/artifacts/"
    const std::string id = name.substr(0, name.size() - suffix.size());
    if (known.count(id) || id == target.id) continue;
    if (loc.get_small(manifest_key(bucket, id), nullptr).is_ok()) continue;  // unreadable, kept
    if (now - o.modified_ns < grace_ns) continue;
    SLIP_RETURN_IF_ERROR(loc.remove(o.key));
    if (pruned) pruned->push_back(id);
  }
  return Status::ok();
}

StagedArtifact::StagedArtifact(Manifest manifest, fs::TempPath file)
    : manifest_(std::move(manifest)), file_(std::make_unique<fs::TempPath>(std::move(file))) {}

StagedArtifact::~StagedArtifact() = default;  // the file goes with file_, unless adopted

const std::string& StagedArtifact::path() const { return file_->path(); }

void StagedArtifact::adopted() { file_->release(); }

namespace {

// The manifest fields known before the payload is written.
Manifest new_manifest(const ExportOptions& o, const VersionToken& cursor) {
  Manifest m;
  m.slip_version = SLIP_VERSION;
  m.bucket = o.bucket;
  m.scope = o.prefixes;
  std::sort(m.scope.begin(), m.scope.end());
  m.scope.erase(std::unique(m.scope.begin(), m.scope.end()), m.scope.end());
  m.cursor = cursor;
  m.compression = "zstd";
  m.compression_level = o.level;
  m.zstd_version = ZSTD_versionString();
  m.created_ns = now_unix_ns();
  m.stream_created_ns = o.stream_created_ns;
  return m;
}

// A scratch file: closed, and removed unless handed over, at scope exit.
struct ScratchFile {
  int fd = -1;
  fs::TempPath file;
  ScratchFile() = default;
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    if (fd >= 0) ::close(fd);
  }
};

// Creates a new scratch file in DIR, registered for removal before it
// exists (a signal in between leaves nothing behind). In a shared temporary
// directory it is private (0600); staged in the location it will become
// the stored object, so it is created like one (0644 less the umask, as
// AtomicFile creates uploaded objects).
Status create_scratch(const std::string& dir, bool as_object, ScratchFile* out) {
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint64_t name = (static_cast<std::uint64_t>(random()) << 32) | random();
    fs::TempPath candidate(
        dir + "/slip-export." +
        to_hex(std::string_view(reinterpret_cast<const char*>(&name), sizeof(name))));
    const int fd = ::open(candidate.path().c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                          as_object ? 0644 : 0600);
    if (fd >= 0) {
      out->fd = fd;
      out->file = std::move(candidate);
      return Status::ok();
    }
    const int err = errno;
    // Another's file, or none: not ours to remove. (A second signal in the
    // instant before this line would remove it; with 64 random bits the
    // name is practically never taken.)
    candidate.release();
    if (err != EEXIST) return Status::from_errno(err, "create a scratch file in " + dir);
  }
  return Status::io_error("create a scratch file in " + dir + ": 100 names taken");
}

// Compresses what EMIT produces into a scratch file, hashing both streams,
// and completes M (entries from EMIT, sizes, hashes, id, payload key).
Result<std::unique_ptr<StagedArtifact>> stage_stream(
    const ExportOptions& o, Manifest m,
    const std::function<Result<std::uint64_t>(const Sink& sink, Manifest* m)>& emit) {
  // The id names the payload's hash, known only at the end of the stream,
  // and object stores cannot rename: so the compressed stream goes to a
  // scratch file first and is uploaded under its id afterwards.
  std::string dir = o.scratch_dir;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  ScratchFile scratch;
  SLIP_RETURN_IF_ERROR(create_scratch(dir, o.staged_in_location, &scratch));
  const int fd = scratch.fd;
  const std::string path = scratch.file.path();

  Sha256 plain_hash, compressed_hash;
  fs::Writeback writeback(fd);
  auto compressor = ZstdCompressor::create(
      o.level, o.workers > 0 ? o.workers : static_cast<int>(std::thread::hardware_concurrency()),
      [&](const char* data, std::size_t size) {
        compressed_hash.update(data, size);
        SLIP_RETURN_IF_ERROR(fs::write_all(fd, data, size, path));
        // Kept as the stored object: its fsync comes before publishing.
        if (o.staged_in_location) writeback.written(compressed_hash.bytes());
        return Status::ok();
      });
  if (!compressor) return compressor.status();
  // Reading the fold and checking or encoding its records is one thread's
  // work; hashing the plain stream and handing it to zstd's workers is
  // another's (the pipe's), which keeps both CPUs busy when zstd is fast.
  // The pipe is declared after all its consumer touches (the hashes, the
  // compressor, the scratch file): it is destroyed, and its thread joined,
  // first.
  ChunkPipe pipe([&](std::string_view chunk) {
    plain_hash.update(chunk);
    return (*compressor)->write(chunk.data(), chunk.size());
  });
  ChunkedPipeWriter plain(&pipe);
  auto entries = emit(
      [&](const char* data, std::size_t n) {
        SLIP_RETURN_IF_ERROR(check_interrupted(o));
        return plain.write(data, n);
      },
      &m);
  // On failure the pipe's destructor drops what is still queued.
  if (!entries) return entries.status().with_context("stage the payload");
  SLIP_RETURN_IF_ERROR(plain.finish().with_context("stage the payload"));
  SLIP_RETURN_IF_ERROR((*compressor)->finish().with_context("stage the payload"));
  m.entries = *entries;
  m.uncompressed_size = plain_hash.bytes();
  m.uncompressed_sha256 = plain_hash.hex_digest();
  m.compressed_size = compressed_hash.bytes();
  m.compressed_sha256 = compressed_hash.hex_digest();
  m.id = artifact_id(m);
  m.payload = payload_key(m.bucket, m.id);
  return std::make_unique<StagedArtifact>(std::move(m), std::move(scratch.file));
}

}  // namespace

Result<std::unique_ptr<StagedArtifact>> stage(fold::Store& store, const ExportOptions& o) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  auto cursor = store.cursor();
  if (!cursor) return no_cursor_to_export();
  Manifest m = new_manifest(o, *cursor);
  if (m.stream_created_ns == 0) {
    auto origin = store.origin();
    if (!origin) return origin.status();
    if (*origin) m.stream_created_ns = (*origin)->stream_created_ns;
  }
  const std::uint64_t total = o.prefixes.empty() ? store.size() : 0;
  const std::vector<std::string> scope = m.scope;
  return stage_stream(o, std::move(m), [&](const Sink& sink, Manifest*) {
    return emit_canonical(store, scope, *cursor, sink, [&](std::uint64_t done) {
      if (o.compress_progress) o.compress_progress(done, total);
    });
  });
}

Result<std::unique_ptr<StagedArtifact>> stage_log_file(const std::string& path,
                                                       const ExportOptions& o) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  auto attempt = [&](bool assume_canonical) {
    // The cursor is the file's last one, known once the file has been read.
    return stage_stream(o, new_manifest(o, VersionToken()),
                        [&](const Sink& sink, Manifest* m) -> Result<std::uint64_t> {
                          auto payload = emit_log_payload(
                              path, m->scope, sink,
                              [&](std::uint64_t done) {
                                if (o.compress_progress) o.compress_progress(done, 0);
                              },
                              assume_canonical);
                          if (!payload) return payload.status();
                          m->cursor = payload->cursor;
                          return payload->entries;
                        });
  };
  // A compacted or imported file is passed through in one pass. Guessing
  // wrong costs the part compressed before the tail showed; the guess looks
  // for commits appended since the base, as a mirror's fold has.
  if (!has_recent_commits(path)) {
    auto staged = attempt(true);
    if (staged || staged.status().kind() != StatusKind::kCheckFailed) return staged;
  }
  return attempt(false);
}

Status stage_in_location(location::Location& loc, ExportOptions* o) {
  auto dir = loc.staging_dir();
  if (!dir) return dir.status().with_context("staging directory of " + loc.display());
  if (dir->empty()) return Status::ok();
  o->scratch_dir = *dir;
  o->staged_in_location = true;
  return Status::ok();
}

Status publish(StagedArtifact& staged, location::Location& loc, const ExportOptions& o,
               ExportReport* report) {
  ExportReport local;
  ExportReport& r = report ? *report : local;
  Manifest m = staged.manifest();
  // An identical artifact already stored (a re-run): publish it as it is.
  auto existing = loc.get_small(manifest_key(m.bucket, m.id), nullptr);
  if (existing) {
    auto parsed = Manifest::parse(*existing);
    if (parsed && parsed->id == m.id) {
      m = std::move(*parsed);
      r.reused = true;
      log(o, "artifact " + m.id + " is already stored; not uploading it again");
    }
  } else if (existing.status().kind() != StatusKind::kNotFound) {
    return existing.status();
  }
  if (!r.reused) {
    {
      std::string etag;
      auto current = read_pointer(loc, m.bucket, &etag);
      if (!current) return current.status();
      if (*current && compare_cursors((**current).cursor, m.cursor) > 0)
        return superseded(**current, m.cursor);
    }
    SLIP_RETURN_IF_ERROR(store_payload(staged, loc, o));
    location::Precondition pre = loc.supports_conditional_writes()
                                     ? location::Precondition::create_only()
                                     : location::Precondition::none();
    Status s = loc.put_small(manifest_key(m.bucket, m.id), m.to_json(), pre);
    // kConflict: an exporter of the same state stored it meanwhile; its
    // manifest describes the same payload bytes and stays as it is.
    if (!s && s.kind() != StatusKind::kConflict)
      return s.with_context("store " + manifest_key(m.bucket, m.id));
    if (!s) {
      auto theirs = resolve(loc, m.bucket, m.id);
      if (!theirs) return theirs.status();
      m = std::move(*theirs);
    }
  }

  SLIP_RETURN_IF_ERROR(check_interrupted(o));
  if (o.before_publish) SLIP_RETURN_IF_ERROR(o.before_publish());
  SLIP_RETURN_IF_ERROR(move_pointer(loc, m, m.to_json(), &r));
  r.manifest = m;
  if (o.keep && !check_interrupted(o)) {
    log(o, "prune skipped: interrupted (the next export prunes)");
  } else if (o.keep) {
    Status s = prune(loc, m.bucket, *o.keep, o.grace, &r.pruned, o.log);
    // The export itself succeeded; a failed prune is retried by the next one.
    if (!s) log(o, "prune failed (the next export retries): " + s.message());
  }
  return Status::ok();
}

Status export_fold(fold::Store& store, location::Location& loc, const ExportOptions& o,
                   ExportReport* report) {
  SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  // Refuse early rather than after staging when we are already behind.
  if (auto cursor = store.cursor()) {
    std::string etag;
    auto current = read_pointer(loc, o.bucket, &etag);
    if (!current) return current.status();
    if (*current && compare_cursors((**current).cursor, *cursor) > 0)
      return superseded(**current, *cursor);
  }
  auto staged = stage(store, o);
  if (!staged) return staged.status();
  return publish(**staged, loc, o, report);
}

}  // namespace slip::artifact
