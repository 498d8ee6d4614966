// `slip mirror --export-to LOCATION --export-every DURATION`: the running
// mirror exports its fold between commits, so the artifact's cursor is
// exactly the fold's applied cursor.
//
// Staging (the one read of the fold: an ordered scan, compressed into a
// scratch file) runs on the mirror's thread while the fold is quiescent;
// the upload and the pointer update run on a thread of their own, so the
// mirror keeps applying updates meanwhile. One export at a time: while an
// upload is in flight, no new one is staged. A stop (the options' and the
// location's interrupted()) ends an export in flight; the pointer stays.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "slip/artifact.h"
#include "slip/fold.h"
#include "slip/location.h"
#include "slip/mirror.h"

namespace slip::cli {

class MirrorExport {
 public:
  using Log = std::function<void(const mirror::Event&)>;

  MirrorExport(std::unique_ptr<location::Location> location, artifact::ExportOptions options,
               std::chrono::milliseconds every, Log log);
  ~MirrorExport();  // waits for an upload in flight (which a stop interrupts)

  // Between commits: stages and starts an export when one is due (caught
  // up, EVERY since the last one began, and the cursor moved since).
  void maybe_export(fold::Store& store, bool caught_up);
  // Stages and publishes now, waiting for it (the end of --once). Returns
  // the outcome; "superseded" is not an error.
  Status export_now(fold::Store& store);

 private:
  Status publish(artifact::StagedArtifact& staged);
  void log_staging_failure(const Status& s);
  void wait_for_upload();

  std::unique_ptr<location::Location> location_;
  artifact::ExportOptions options_;
  std::chrono::milliseconds every_;
  Log log_;
  std::optional<std::chrono::steady_clock::time_point> last_start_;
  std::optional<VersionToken> last_cursor_;
  std::thread upload_;
  std::atomic<bool> uploading_{false};
};

}  // namespace slip::cli
