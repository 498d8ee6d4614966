// Placeholder until the S3 scheme lands: s3:// URLs are refused clearly.
#include "location/schemes.h"

namespace slip::location {

Result<std::unique_ptr<Location>> open_s3_location(const std::string&, const Options&) {
  return Status::not_supported("s3:// locations are not supported by this build yet");
}

}  // namespace slip::location
