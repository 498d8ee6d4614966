#include "location_flags.h"

namespace slip::cli {

void add_location_flags(CLI::App* app, LocationFlags& flags) {
  app->add_option("--endpoint", flags.endpoint,
                  "s3: URL of an S3-compatible server (default: $AWS_ENDPOINT_URL, else AWS)")
      ->type_name("URL");
  app->add_flag("--path-style", flags.path_style,
                "s3: address objects as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY");
}

Result<std::unique_ptr<location::Location>> open_location_from_flags(const std::string& url,
                                                                     const LocationFlags& flags) {
  location::Options o;
  o.endpoint = flags.endpoint;
  o.path_style = flags.path_style;
  return location::open_location(url, o);
}

}  // namespace slip::cli
