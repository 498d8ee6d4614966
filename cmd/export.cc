#include "export.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/duration.h"
#include "fold/lock.h"
#include "fold/origin.h"
#include "fs/temp_path.h"
#include "json_fields.h"
#include "progress.h"
#include "signals.h"
#include "slip/artifact.h"
#include "slip/fold.h"
#include "slip/lease.h"
#include "slip/mirror.h"

namespace slip::cli {

void register_export(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* app = parent.add_subcommand(
      "export", "Publish a fold, or a live bucket, as an artifact in object storage");
  app->add_option("--bucket", o->bucket,
                  "The bucket: read live, or with --from the one the fold mirrors; names the "
                  "artifacts")
      ->type_name("BUCKET");
  app->add_option("--from", o->from,
                  "Export this idle fold (a snapshot file or a LevelDB directory)")
      ->type_name("PATH");
  app->add_option("--to", o->to, "Where: file:///dir/prefix, a path, or s3://bucket/prefix")
      ->type_name("LOCATION");
  app->add_option("--prefix", o->prefixes, "Only keys starting with P (repeatable)")
      ->type_name("P");
  app->add_option("--keep", o->keep,
                  "After publishing, delete all but the N newest artifacts of the bucket (never "
                  "the current one)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app->add_option("--grace", o->grace,
                  "With --keep: delete an artifact only this long after it was superseded "
                  "(default 1h), so running imports can finish")
      ->type_name("DURATION");
  app->add_option(
         "--level", o->level,
         "zstd compression level (default " + std::to_string(artifact::kDefaultLevel) + ")")
      ->type_name("N")
      ->check(CLI::Range(1, 19));
  app->add_option("--lease", o->lease,
                  "Export only while holding a lease in this KV key (fleet at-most-once)")
      ->type_name("BUCKET/KEY");
  app->add_option("--lease-ttl", o->lease_ttl, "How long the lease holds (with --lease)")
      ->type_name("DURATION");
  app->add_flag("--json", o->json, "Print the result as one JSON object");
  add_location_flags(app, o->loc);
  add_connection_flags(app, o->conn);
  app->require_subcommand(0, 1);
  set_long_help(
      app,
      "Writes the state of a bucket (or of the --prefix scope of it) and the cursor it is "
      "complete up to as an artifact under LOCATION: the fold in canonical PGSS v2 form, "
      "compressed with zstd, plus a JSON manifest with sizes and SHA-256 hashes, then moves the "
      "bucket's pointer to it. The compressed payload is staged first, in $TMPDIR for s3:// (it "
      "needs that much space there), in the location's directory for file://. Format, layout and "
      "guarantees: slip-artifact(5). 'slip import' "
      "reads it back; 'slip mirror' then resumes from the artifact's cursor with the delta "
      "only.\n\n"
      "With --from, the fold at PATH is exported; it must not be in use by a mirror. Without it, "
      "the bucket is read live (a state-sync read into a scratch fold in $TMPDIR, so the cursor "
      "is exactly the revision the data is complete up to).\n\n"
      "The pointer never moves backwards: when it already names a newer cursor the export is "
      "refused as superseded (exit 1). Where the store supports conditional writes the pointer is "
      "replaced with a compare-and-set; see slip-artifact(5) for what holds elsewhere.\n\n"
      "--lease takes a lease in a NATS KV key before exporting: create-only wins, an expired or "
      "unreadable lease is taken over with a compare-and-set. Another holder means exit 1 with a "
      "note, and so does losing the lease before the pointer is written. On success the lease "
      "records the exported cursor and is kept until it expires; on failure it is released.\n\n"
      "JSON fields: bucket, id, cursor, cursor_hex, entries, uncompressed_size, compressed_size, "
      "payload, reused (an identical artifact was already stored), previous_cursor (null when "
      "there was no pointer), pruned (ids).\n\n"
      "EXIT STATUS\n"
      "0 published; 1 superseded, or the lease is held elsewhere or was lost; 2 bad arguments; "
      "3 the fold or the current pointer is damaged; 4 storage or server unavailable, or the fold "
      "is in use; 130 interrupted (the pointer is unchanged; a multipart upload is aborted and a "
      "lease released on the way out; a second signal exits at once).\n\n" +
          location_environment_help());
  registry.set_runner(app, [o](Context& ctx) { return run_export(*o, ctx); });
  register_export_ls(*app, registry);
}

namespace {

void note(const std::string& text) { std::fprintf(stderr, "slip: export: %s\n", text.c_str()); }

std::string holder_name() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  return std::string(host) + ":" + std::to_string(::getpid());
}

Result<std::unique_ptr<fold::Store>> open_idle_fold(const std::string& path) {
  auto backend = fold::detect_backend(path);
  if (!backend) return backend.status();
  if (!*backend) return Status::invalid_argument("no fold at " + path);
  // Opening takes the fold's lock: a running mirror makes this fail.
  return **backend == "log" ? fold::open_log(path, {}) : fold::open_leveldb(path, {});
}

// The bucket and scope a fold records (slip mirror writes them) fill in
// what the flags leave out, and must agree with what they say.
Status apply_fold_origin(const std::optional<fold::Origin>& origin, const ExportOptions& o,
                         artifact::ExportOptions* eo) {
  if (!origin) {
    if (o.bucket.empty())
      return Status::invalid_argument(o.from +
                                      " does not record which bucket it is a fold of: name it "
                                      "with --bucket");
    return Status::ok();
  }
  if (!o.bucket.empty() && o.bucket != origin->bucket)
    return Status::invalid_argument(o.from + " is a fold of " + fold::describe(*origin) +
                                    ", not of bucket " + o.bucket);
  eo->bucket = origin->bucket;
  if (eo->prefixes.empty()) eo->prefixes = origin->prefixes;
  eo->stream_created_ns = origin->stream_created_ns;
  return Status::ok();
}

// A log fold is read as a file, under the fold's lock (held until staging
// is done: publishing needs only the staged copy). kNotSupported: not a
// log fold, or damaged (the store's open repairs or refuses it).
Result<std::unique_ptr<artifact::StagedArtifact>> stage_log_fold(const ExportOptions& o,
                                                                 artifact::ExportOptions* eo) {
  auto backend = fold::detect_backend(o.from);
  if (!backend) return backend.status();
  if (!*backend || **backend != "log") return Status::not_supported("not a log fold");
  auto lock = fold::FileLock::acquire_fold(o.from, "log");
  if (!lock) return lock.status();
  auto origin = fold::read_origin_sidecar(o.from);
  if (!origin) return origin.status();
  SLIP_RETURN_IF_ERROR(apply_fold_origin(*origin, o, eo));
  return artifact::stage_log_file(o.from, *eo);
}

}  // namespace

Status run_export(const ExportOptions& o, Context& ctx) {
  // The first signal stops the export between chunks or requests: a
  // multipart upload is aborted and a lease released on the way out. A
  // second one exits at once (signals.h).
  install_stop_signals();
  if (o.to.empty()) return Status::invalid_argument("--to LOCATION is required");
  if (o.bucket.empty() && o.from.empty())
    return Status::invalid_argument(
        "--bucket or --from is required: the bucket to read live, or "
        "the fold to export");
  if (!o.bucket.empty()) SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.bucket));
  for (const std::string& p : o.prefixes) SLIP_RETURN_IF_ERROR(kv::validate_prefix(p));
  auto grace = parse_duration(o.grace);
  if (!grace) return grace.status().with_context("--grace");
  if (o.lease.empty() != o.lease_ttl.empty())
    return Status::invalid_argument("--lease and --lease-ttl go together");

  auto loc = open_location_from_flags(o.to, o.loc, stop_requested);
  if (!loc) return loc.status();

  std::unique_ptr<kv::Client> client;
  auto connect = [&]() -> Status {
    if (client) return Status::ok();
    auto c = connect_from_flags(o.conn);
    if (!c) return c.status();
    client = std::move(*c);
    return Status::ok();
  };

  std::unique_ptr<kv::Bucket> lease_bucket;
  std::unique_ptr<lease::Lease> held;
  if (!o.lease.empty()) {
    auto slash = o.lease.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == o.lease.size())
      return Status::invalid_argument("--lease wants BUCKET/KEY, got '" + o.lease + "'");
    const std::string lb = o.lease.substr(0, slash), lk = o.lease.substr(slash + 1);
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(lb));
    SLIP_RETURN_IF_ERROR(kv::validate_key(lk));
    auto ttl = parse_duration(o.lease_ttl);
    if (!ttl) return ttl.status().with_context("--lease-ttl");
    SLIP_RETURN_IF_ERROR(connect());
    auto b = client->open_bucket(lb);
    if (!b) return b.status().with_context("lease bucket");
    lease_bucket = std::move(*b);
    auto l = lease::Lease::acquire(*lease_bucket, lk, *ttl, holder_name());
    if (!l) return l.status();
    held = std::move(*l);
  }

  artifact::ExportOptions eo;
  eo.bucket = o.bucket;
  eo.prefixes = o.prefixes;
  eo.level = o.level;
  SLIP_RETURN_IF_ERROR(artifact::stage_in_location(**loc, &eo));
  if (o.keep > 0) eo.keep = static_cast<std::size_t>(o.keep);
  eo.grace = std::chrono::duration_cast<std::chrono::seconds>(*grace);
  eo.log = note;
  eo.interrupted = stop_requested;
  ProgressBar compress_bar("compress", ProgressBar::Unit::kItems, ProgressBar::wanted());
  ProgressBar bar("upload", ProgressBar::Unit::kBytes, ProgressBar::wanted());
  eo.compress_progress = [&](std::uint64_t done, std::uint64_t total) {
    compress_bar.update(done, total);
  };
  eo.progress = [&](std::uint64_t done, std::uint64_t total) {
    compress_bar.finish();
    bar.update(done, total);
  };
  if (held) eo.before_publish = [&]() { return held->check(); };

  artifact::ExportReport report;
  auto run = [&]() -> Status {
    if (!o.from.empty()) {
      {
        // A log fold is streamed from its file: no replay into memory.
        auto staged = stage_log_fold(o, &eo);
        if (staged) return artifact::publish(**staged, **loc, eo, &report);
        if (staged.status().kind() != StatusKind::kNotSupported) return staged.status();
      }
      auto store = open_idle_fold(o.from);
      if (!store) return store.status();
      auto origin = (*store)->origin();
      if (!origin) return origin.status();
      SLIP_RETURN_IF_ERROR(apply_fold_origin(*origin, o, &eo));
      return artifact::export_fold(**store, **loc, eo, &report);
    }
    // Live: a state-sync read into a scratch fold, then the same export.
    SLIP_RETURN_IF_ERROR(connect());
    auto bucket = client->open_bucket(o.bucket);
    if (!bucket) return bucket.status();
    std::error_code ec;
    fs::TempPath scratch{std::filesystem::temp_directory_path(ec).string() + "/slip-export." +
                         std::to_string(::getpid())};
    std::filesystem::remove_all(scratch.path(), ec);
    auto store = fold::open_leveldb(scratch.path(), {});
    if (!store) return store.status();
    mirror::Options mo;
    mo.scope.prefixes = o.prefixes;
    mo.once = true;
    mo.stop_requested = stop_requested;
    mirror::Report mr;
    SLIP_RETURN_IF_ERROR(mirror::run(**bucket, **store, mo, &mr));
    if (stop_requested()) return Status::interrupted("interrupted");
    return artifact::export_fold(**store, **loc, eo, &report);
  };
  Status s = run();
  compress_bar.finish();
  bar.finish();
  if (held) {
    if (s) {
      Status c = held->complete(report.manifest.cursor.revision().value_or(0));
      if (!c) note(c.message());
    } else if (s.message().rfind("lost the lease", 0) != 0) {
      Status r = held->release();
      if (!r) note("releasing the lease: " + r.message());
    }
  }
  SLIP_RETURN_IF_ERROR(s);

  const artifact::Manifest& m = report.manifest;
  if (o.json) {
    nlohmann::json j;
    j["bucket"] = m.bucket;
    j["id"] = m.id;
    j["cursor"] = version_json(m.cursor);
    j["cursor_hex"] = m.cursor.hex();
    j["entries"] = m.entries;
    j["uncompressed_size"] = m.uncompressed_size;
    j["compressed_size"] = m.compressed_size;
    j["payload"] = m.payload;
    j["reused"] = report.reused;
    j["previous_cursor"] = version_json(report.previous_cursor);
    j["pruned"] = report.pruned;
    return ctx.out.line(j.dump());
  }
  std::string line = "exported " + m.bucket + " at cursor " + m.cursor.display() + ": " +
                     std::to_string(m.entries) + " keys, " + std::to_string(m.uncompressed_size) +
                     " bytes, " + std::to_string(m.compressed_size) + " compressed, artifact " +
                     m.id + (report.reused ? " (already stored)" : "");
  if (!report.pruned.empty()) line += "; pruned " + std::to_string(report.pruned.size());
  return ctx.out.line(line);
}

}  // namespace slip::cli
