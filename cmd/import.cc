#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "export.h"
#include "fs/temp_path.h"
#include "progress.h"
#include "signals.h"
#include "slip/artifact.h"

namespace slip::cli {

void register_import(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* app = parent.add_subcommand(
      "import", "Build a fold, or restore a bucket, from an exported artifact");
  app->add_option("LOCATION", o->location, "file:///dir/prefix, a path, or s3://bucket/prefix")
      ->required()
      ->type_name("LOCATION");
  app->add_option("--to", o->to, "Build a fold here (must not exist, unless --force)")
      ->type_name("PATH");
  app->add_option("--to-bucket", o->to_bucket, "Or put every key into this bucket")
      ->type_name("BUCKET");
  app->add_option("--bucket", o->bucket,
                  "Whose artifacts to read (default: the only bucket under LOCATION)")
      ->type_name("BUCKET");
  app->add_option("--artifact", o->artifact, "This artifact instead of the current one")
      ->type_name("ID");
  app->add_option("--backend", o->backend, "With --to: log (default) or leveldb")
      ->check(CLI::IsMember({"log", "leveldb"}))
      ->type_name("BACKEND");
  app->add_flag("--force", o->force, "With --to: replace an existing fold (not one in use)");
  app->add_flag("--create", o->create, "With --to-bucket: create the bucket if it does not exist");
  add_location_flags(app, o->loc);
  add_connection_flags(app, o->conn);
  set_long_help(
      app,
      "Downloads the artifact the bucket's pointer names (or --artifact ID), decompressing as it "
      "streams, and checks the SHA-256 of the compressed and of the uncompressed payload, the "
      "sizes, and the snapshot itself (every record, the key count, the cursor) before anything "
      "is used. Format: slip-artifact(5).\n\n"
      "With --to, the fold is built in a staging path beside PATH and renamed into place: a bad "
      "artifact never becomes a fold and leaves nothing at PATH. 'slip mirror BUCKET --to PATH' "
      "then resumes from the artifact's cursor and receives only the updates after it.\n\n"
      "With --to-bucket, every key of the artifact is put into the bucket (keys of the bucket "
      "that the artifact lacks are left alone). Keys that already hold the artifact's value are "
      "skipped, so an interrupted restore is resumed by running it again. The revisions in the "
      "bucket are new ones; the artifact's cursor does not apply to it.\n\n"
      "EXIT STATUS\n"
      "0 imported; 1 no such artifact or bucket; 2 bad arguments, or PATH exists without "
      "--force; 3 the artifact is damaged (nothing was written to PATH); 4 storage or server "
      "unavailable, a put failed (run again to resume), or the fold at PATH is in use; 130 "
      "interrupted (run again to resume).\n\n" +
          location_environment_help());
  registry.set_runner(app, [o](Context& ctx) { return run_import(*o, ctx); });
}

Result<std::string> only_bucket(location::Location& loc) {
  auto buckets = artifact::list_buckets(loc);
  if (!buckets) return buckets.status();
  if (buckets->empty()) return Status::not_found("no exports under " + loc.display());
  if (buckets->size() > 1) {
    std::string names;
    for (const std::string& b : *buckets) names += (names.empty() ? "" : ", ") + b;
    return Status::invalid_argument(loc.display() + " holds exports of several buckets (" + names +
                                    "): choose one with --bucket");
  }
  return buckets->front();
}

Result<artifact::Manifest> resolve_manifest(location::Location& loc, const std::string& bucket,
                                            const std::string& id) {
  if (!bucket.empty()) return artifact::resolve(loc, bucket, id);
  auto only = only_bucket(loc);
  if (!only) return only.status();
  return artifact::resolve(loc, *only, id);
}

Status run_import(const ImportOptions& o, Context& ctx) {
  install_abort_signals();  // until the restore, which stops between batches
  if (o.to.empty() == o.to_bucket.empty())
    return Status::invalid_argument("give exactly one of --to PATH and --to-bucket BUCKET");
  if (!o.to_bucket.empty()) SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(o.to_bucket));
  auto loc = open_location_from_flags(o.location, o.loc);
  if (!loc) return loc.status();
  auto manifest = resolve_manifest(**loc, o.bucket, o.artifact);
  if (!manifest) return manifest.status();
  const artifact::Manifest& m = *manifest;

  if (!o.to.empty()) {
    artifact::ImportOptions io;
    io.backend = o.backend;
    io.force = o.force;
    ProgressBar bar("download", ProgressBar::Unit::kBytes, ProgressBar::wanted());
    io.progress = [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    Status s = artifact::import_fold(**loc, m, o.to, io);
    bar.finish();
    SLIP_RETURN_IF_ERROR(s);
    return ctx.out.line("imported " + m.bucket + " artifact " + m.id + ": " +
                        std::to_string(m.entries) + " keys at cursor " + m.cursor.display() +
                        " into " + o.to + " (" + o.backend + ")");
  }

  auto client = connect_from_flags(o.conn);
  if (!client) return client.status();
  auto target = (*client)->open_bucket(o.to_bucket);
  if (!target && target.status().kind() == StatusKind::kNotFound && o.create) {
    kv::BucketConfig config;
    config.name = o.to_bucket;
    target = (*client)->create_bucket(config);
  }
  if (!target) {
    if (target.status().kind() == StatusKind::kNotFound)
      return Status::not_found("bucket " + o.to_bucket + " does not exist (add --create)");
    return target.status();
  }
  // Verified in full before the first put: a damaged artifact writes nothing.
  std::error_code ec;
  const std::string snap = std::filesystem::temp_directory_path(ec).string() + "/slip-import." +
                           std::to_string(::getpid()) + ".snap";
  ::unlink(snap.c_str());
  fs::TempPath remove(snap);
  {
    ProgressBar bar("download", ProgressBar::Unit::kBytes, ProgressBar::wanted());
    SLIP_RETURN_IF_ERROR(artifact::fetch_verified(
        **loc, m, snap, [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); }));
  }
  install_stop_signals();
  artifact::RestoreReport report;
  Status s;
  {
    ProgressBar bar("restore", ProgressBar::Unit::kItems, ProgressBar::wanted());
    s = artifact::restore_to_bucket(
        **target, snap, stop_requested, [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); },
        &report);
  }
  const std::string counts = std::to_string(report.written) + " written, " +
                             std::to_string(report.unchanged) + " already current, of " +
                             std::to_string(report.entries) + " keys";
  if (!s) {
    return s.with_context("restore into " + o.to_bucket + " stopped (" + counts +
                          "; run the import again to resume)");
  }
  return ctx.out.line("restored " + m.bucket + " artifact " + m.id + " into bucket " + o.to_bucket +
                      ": " + counts);
}

}  // namespace slip::cli
