#include "mirror_export.h"

namespace slip::cli {

MirrorExport::MirrorExport(std::unique_ptr<location::Location> location,
                           artifact::ExportOptions options, std::chrono::milliseconds every,
                           Log log)
    : location_(std::move(location)),
      options_(std::move(options)),
      every_(every),
      log_(std::move(log)) {}

MirrorExport::~MirrorExport() { wait_for_upload(); }

void MirrorExport::wait_for_upload() {
  if (upload_.joinable()) upload_.join();
}

Status MirrorExport::publish(artifact::StagedArtifact& staged) {
  artifact::ExportReport report;
  Status s = artifact::publish(staged, *location_, options_, &report);
  const artifact::Manifest& m = staged.manifest();
  const std::uint64_t cursor = m.cursor.revision().value_or(0);
  if (s) {
    log_({"info",
          "exported",
          "exported cursor " + std::to_string(cursor) + " (" + std::to_string(m.entries) +
              " keys, " + std::to_string(m.compressed_size) + " bytes) to " + location_->display() +
              (report.reused ? " (already there)" : ""),
          {{"cursor", cursor}, {"keys", m.entries}, {"bytes", m.compressed_size}}});
  } else if (s.kind() == StatusKind::kConflict &&
             s.message().find("superseded") != std::string::npos) {
    log_({"info", "export_superseded", s.message(), {{"cursor", cursor}}});
  } else if (s.kind() == StatusKind::kInterrupted) {
    log_({"info",
          "export_interrupted",
          "export interrupted by the stop; the next run exports again",
          {{"cursor", cursor}}});
  } else {
    log_({"warn",
          "export_failed",
          "export failed (next try in the next period): " + s.message(),
          {{"cursor", cursor}}});
  }
  return s;
}

void MirrorExport::log_staging_failure(const Status& s) {
  if (s.kind() == StatusKind::kInterrupted) {
    log_({"info", "export_interrupted", "export interrupted by the stop while staging", {}});
  } else {
    log_({"warn", "export_failed", "export failed while staging: " + s.message(), {}});
  }
}

void MirrorExport::maybe_export(fold::Store& store, bool caught_up) {
  if (!caught_up || uploading_) return;
  const auto now = std::chrono::steady_clock::now();
  if (last_start_ && now - *last_start_ < every_) return;
  const auto cursor = store.cursor();
  if (!cursor || (last_cursor_ && *last_cursor_ == *cursor)) return;
  last_start_ = now;
  wait_for_upload();  // the previous thread has finished: reap it
  auto staged = artifact::stage(store, options_);
  if (!staged) {
    log_staging_failure(staged.status());
    return;
  }
  last_cursor_ = *cursor;
  uploading_ = true;
  upload_ = std::thread(
      [this, s = std::shared_ptr<artifact::StagedArtifact>(std::move(*staged))]() mutable {
        (void)publish(*s);
        s.reset();  // removes the scratch file
        uploading_ = false;
      });
}

Status MirrorExport::export_now(fold::Store& store) {
  wait_for_upload();
  auto staged = artifact::stage(store, options_);
  if (!staged) {
    log_staging_failure(staged.status());
    return staged.status();
  }
  Status s = publish(**staged);
  if (s.kind() == StatusKind::kConflict && s.message().find("superseded") != std::string::npos)
    return Status::ok();
  return s;
}

}  // namespace slip::cli
