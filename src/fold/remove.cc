#include <filesystem>

#include "slip/fold.h"

namespace slip::fold {

Status remove_new_fold(const std::string& path, const std::string& backend) {
  std::error_code ec;
  if (backend == "leveldb") {
    // Only a directory this process made: detect_backend found nothing at
    // PATH before the store created it, and the lock inside it was ours.
    std::filesystem::remove_all(path, ec);
  } else {
    std::filesystem::remove(path, ec);
    if (!ec) std::filesystem::remove(path + ".origin", ec);
    if (!ec) std::filesystem::remove(path + ".lock", ec);
  }
  if (ec) return Status::io_error("remove the unfinished fold " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace slip::fold
