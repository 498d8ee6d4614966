// Reading artifacts back: listing, resolving, a verified download, and a
// fold built beside its destination and renamed into place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "artifact/codec.h"
#include "artifact/common.h"
#include "artifact/hashing_writer.h"
#include "fold/lock.h"
#include "fold/origin.h"
#include "fs/io.h"
#include "fs/temp_path.h"
#include "slip/artifact.h"
#include "slip/atomic_file.h"
#include "slip/snapshot.h"
#include "slip/snapshot_reader.h"

namespace slip::artifact {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Removes a file or a directory tree; quiet, for cleanup paths.
void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace

Result<std::vector<std::string>> list_buckets(location::Location& loc) {
  auto objects = loc.list("");
  if (!objects) return objects.status();
  std::vector<std::string> buckets;
  const std::string suffix = "/pointer.json";
  for (const location::ObjectInfo& o : *objects) {
    if (!ends_with(o.key, suffix)) continue;
    std::string bucket = o.key.substr(0, o.key.size() - suffix.size());
    if (bucket.empty() || bucket.find('/') != std::string::npos) continue;
    buckets.push_back(bucket);
  }
  std::sort(buckets.begin(), buckets.end());
  return buckets;
}

Result<std::vector<Listing>> list_artifacts(location::Location& loc, const std::string& bucket,
                                            std::vector<std::string>* skipped) {
  auto objects = loc.list(bucket + "/artifacts/");
  if (!objects) return objects.status();
  std::string current_id;
  {
    auto pointer = loc.get_small(pointer_key(bucket), nullptr);
    if (pointer) {
      if (auto m = Manifest::parse(*pointer)) current_id = m->id;
    } else if (pointer.status().kind() != StatusKind::kNotFound) {
      return pointer.status();
    }
  }
  std::vector<Listing> out;
  for (const location::ObjectInfo& o : *objects) {
    if (!ends_with(o.key, ".json")) continue;
    auto text = loc.get_small(o.key, nullptr);
    if (!text) {
      if (text.status().kind() == StatusKind::kNotFound) continue;  // pruned meanwhile
      return text.status();
    }
    auto m = Manifest::parse(*text);
    if (!m || manifest_key(m->bucket, m->id) != o.key) {
      if (skipped)
        skipped->push_back(o.key + ": " + (m ? "misplaced manifest" : m.status().message()));
      continue;
    }
    Listing l;
    l.current = m->id == current_id;
    l.manifest = std::move(*m);
    out.push_back(std::move(l));
  }
  std::stable_sort(out.begin(), out.end(), [](const Listing& a, const Listing& b) {
    int c = compare_cursors(a.manifest.cursor, b.manifest.cursor);
    return c != 0 ? c < 0 : a.manifest.created_ns < b.manifest.created_ns;
  });
  return out;
}

Result<Manifest> resolve(location::Location& loc, const std::string& bucket,
                         const std::string& id) {
  const std::string key = id.empty() ? pointer_key(bucket) : manifest_key(bucket, id);
  auto text = loc.get_small(key, nullptr);
  if (!text) {
    if (text.status().kind() == StatusKind::kNotFound) {
      return Status::not_found((id.empty() ? "no export of bucket " + bucket
                                           : "no artifact " + id + " of bucket " + bucket) +
                               " under " + loc.display() + " (see 'slip export ls')");
    }
    return text.status();
  }
  auto m = Manifest::parse(*text);
  if (!m) return m.status().with_context(key);
  if (m->bucket != bucket || (!id.empty() && m->id != id)) {
    return Status::corruption(key + ": the manifest describes another artifact (" + m->bucket +
                              "/" + m->id + ")");
  }
  return m;
}

Status fetch_verified(location::Location& loc, const Manifest& m, const std::string& path,
                      const Progress& progress) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "create " + path);
  fs::TempPath cleanup(path);
  struct Fd {
    int fd;
    ~Fd() { ::close(fd); }
  } guard{fd};

  auto download = loc.download(m.payload);
  if (!download) return download.status().with_context("download " + m.payload);
  const std::string what = m.payload + " under " + loc.display();

  // This thread downloads, hashes and decompresses; the snapshot is hashed
  // and written on another.
  Sha256 compressed_hash;
  HashingWriter writer(fd, path);
  std::uint64_t plain_bytes = 0;
  auto decompressor = ZstdDecompressor::create([&](const char* data, std::size_t n) -> Status {
    plain_bytes += n;
    if (plain_bytes > m.uncompressed_size)
      return Status::corruption("payload decompresses to more than the manifest's " +
                                std::to_string(m.uncompressed_size) + " bytes");
    return writer.write(data, n);
  });
  if (!decompressor) return decompressor.status();
  std::string buf(1 << 20, '\0');
  for (;;) {
    auto n = (*download)->read(buf.data(), buf.size());
    if (!n) return n.status().with_context("download " + m.payload);
    if (*n == 0) break;
    compressed_hash.update(buf.data(), *n);
    if (compressed_hash.bytes() > m.compressed_size)
      return Status::corruption(what + ": larger than the manifest's " +
                                std::to_string(m.compressed_size) + " bytes");
    if (progress) progress(compressed_hash.bytes(), m.compressed_size);
    Status s = (*decompressor)->write(buf.data(), *n);
    if (!s) return s.with_context(what);
  }
  if (compressed_hash.bytes() != m.compressed_size)
    return Status::corruption(what + ": " + std::to_string(compressed_hash.bytes()) +
                              " bytes, the manifest says " + std::to_string(m.compressed_size));
  if (compressed_hash.hex_digest() != m.compressed_sha256)
    return Status::corruption(what +
                              ": SHA-256 of the compressed payload does not match the "
                              "manifest");
  SLIP_RETURN_IF_ERROR((*decompressor)->finish().with_context(what));
  auto plain_sha256 = writer.finish();
  if (!plain_sha256) return plain_sha256.status();
  if (plain_bytes != m.uncompressed_size || *plain_sha256 != m.uncompressed_sha256)
    return Status::corruption(what +
                              ": SHA-256 of the uncompressed payload does not match the "
                              "manifest");
  if (::fsync(fd) != 0) return Status::from_errno(errno, "fsync " + path);

  // The hashes say the bytes are the exporter's; the snapshot checks say the
  // exporter wrote what the manifest claims.
  auto report = snapshot::verify(path);
  if (!report) return report.status();
  if (report->problem.damage != snapshot::Damage::kNone)
    return Status::corruption(
        what +
        ": the payload is not a valid snapshot: " + snapshot::damage_name(report->problem.damage) +
        " at offset " + std::to_string(report->problem.offset) + ": " + report->problem.reason);
  if (report->live_keys != m.entries || !report->cursor || !(*report->cursor == m.cursor) ||
      report->records != m.entries + 1)
    return Status::corruption(what + ": the payload holds " + std::to_string(report->live_keys) +
                              " keys, the manifest says " + std::to_string(m.entries) +
                              " keys at cursor " + m.cursor.display());
  cleanup.release();
  return Status::ok();
}

namespace {

// The fold's origin record: what `slip mirror` checks before resuming it.
// The stream identity travels with it, so that a mirror resuming the
// imported fold against a bucket deleted and created again resyncs. An
// artifact without one (schema 1) owes a reconcile: the mirror's first
// resume compares every key with the bucket instead of trusting the cursor.
fold::Origin origin_of(const Manifest& m) {
  fold::Origin origin = fold::make_origin(m.bucket, m.scope);
  origin.stream_created_ns = m.stream_created_ns;
  origin.reconcile_owed = m.stream_created_ns == 0;
  return origin;
}

// Builds a LevelDB fold in DIR from the verified snapshot at SNAP.
Status build_leveldb(const std::string& snap, const std::string& dir, const Manifest& m,
                     const Progress& progress) {
  // A new directory, and the snapshot was verified canonical: each key once.
  fold::Options options;
  options.bulk_load = true;
  auto store = fold::open_leveldb(dir, options);
  if (!store) return store.status();
  auto reader = snapshot::Reader::open(snap);
  if (!reader) return reader.status();
  std::vector<fold::Mutation> batch;
  snapshot::Record rec;
  while ((*reader)->next(&rec)) {
    if (rec.type != snapshot::RecordType::kPut) continue;
    batch.push_back({std::string(rec.key), std::string(rec.value), rec.version, false});
    if (batch.size() >= 10000) {
      // The staging directory is invisible until the rename, so the cursor
      // of these partial commits is never seen.
      SLIP_RETURN_IF_ERROR((*store)->commit(batch, m.cursor));
      batch.clear();
      if (progress) progress((*reader)->bytes_consumed(), m.uncompressed_size);
    }
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  if ((*reader)->problem().damage != snapshot::Damage::kNone)
    return Status::corruption(snap + ": " + (*reader)->problem().reason);
  SLIP_RETURN_IF_ERROR((*store)->commit(batch, m.cursor));
  if (progress) progress(m.uncompressed_size, m.uncompressed_size);
  return (*store)->set_origin(origin_of(m));
}

}  // namespace

Status import_fold(location::Location& loc, const Manifest& m, const std::string& dest,
                   const ImportOptions& o) {
  if (o.backend != "log" && o.backend != "leveldb")
    return Status::invalid_argument("unknown backend '" + o.backend + "' (log or leveldb)");
  std::string target = dest;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  const std::string dir = fs::dirname_of(target);
  const std::string base = fs::basename_of(target);

  // An existing fold is replaced only with force, and never while a mirror
  // holds it: its lock is held until the replacement is in place.
  std::unique_ptr<fold::FileLock> old_lock;
  if (exists(target)) {
    if (!o.force)
      return Status::invalid_argument(target + " already exists (use --force to replace it)");
    auto backend = fold::detect_backend(target);
    if (!backend) return backend.status();
    if (*backend) {
      auto lock = fold::FileLock::acquire_fold(target, **backend);
      if (!lock) return lock.status();
      old_lock = std::move(*lock);
    }
  }

  const std::string tag = ".slip-import." + std::to_string(::getpid());
  const std::string snap = dir + "/." + base + tag + ".snap";
  const std::string ldb = dir + "/." + base + tag + ".ldb";
  // Left by an import that died with our PID (a container restarts with
  // the same one): never build on it.
  remove_all(snap);
  remove_all(ldb);
  fs::TempPath snap_cleanup(snap), ldb_cleanup(ldb);
  SLIP_RETURN_IF_ERROR(fetch_verified(loc, m, snap, o.progress));

  std::string staged = snap;
  if (o.backend == "leveldb") {
    SLIP_RETURN_IF_ERROR(build_leveldb(snap, ldb, m, o.progress));
    staged = ldb;
  }

  // From here to the end a signal waits: between the two renames the
  // destination is empty, and an exit there would leave the old fold
  // hidden aside and remove the new one with the temporary files.
  fs::DeferSignalExit swapping;
  std::string old;
  if (exists(target)) {
    old = dir + "/." + base + ".slip-old." + std::to_string(::getpid());
    remove_all(old);
    if (::rename(target.c_str(), old.c_str()) != 0)
      return Status::from_errno(errno, "move " + target + " aside");
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    Status s = Status::from_errno(errno, "rename " + staged + " to " + target);
    if (!old.empty()) (void)::rename(old.c_str(), target.c_str());
    return s;
  }
  (staged == snap ? snap_cleanup : ldb_cleanup).release();
  if (o.backend == "log") {
    // The log backend keeps its origin in a sidecar (docs/fold-stores.md).
    SLIP_RETURN_IF_ERROR(fold::write_origin_sidecar(target, origin_of(m)));
  }
  SLIP_RETURN_IF_ERROR(fs::fsync_parent_dir(target));
  if (!old.empty()) remove_all(old);
  return Status::ok();
}

}  // namespace slip::artifact
