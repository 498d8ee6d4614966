#include "location_flags.h"

namespace slip::cli {

void add_location_flags(CLI::App* app, LocationFlags& flags) {
  app->add_option("--endpoint", flags.endpoint,
                  "s3: URL of an S3-compatible server (default: $AWS_ENDPOINT_URL_S3, else "
                  "$AWS_ENDPOINT_URL, else AWS)")
      ->type_name("URL");
  app->add_flag("--path-style", flags.path_style,
                "s3: address objects as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY");
}

std::string location_environment_help() {
  return environment_help({
      {"AWS_ACCESS_KEY_ID", "s3: the access key id (required for s3://)"},
      {"AWS_SECRET_ACCESS_KEY", "s3: the secret key (required; never printed)"},
      {"AWS_SESSION_TOKEN", "s3: the session token of temporary credentials"},
      {"AWS_REGION", "s3: the region (default us-east-1)"},
      {"AWS_DEFAULT_REGION", "s3: the region when AWS_REGION is not set"},
      {"AWS_ENDPOINT_URL_S3", "s3: the server when --endpoint is not given"},
      {"AWS_ENDPOINT_URL", "s3: the server when neither of the above is given"},
      {"SLIP_S3_CONDITIONAL_WRITES",
       "s3: 1 when the server enforces If-Match and If-None-Match on PUT (the pointer is "
       "then replaced with a compare-and-set), 0 when not; the default is 1 for S3 on AWS "
       "(the default endpoint, or an s3.* or s3-fips.* host under amazonaws.com) and 0 "
       "for other servers"},
      {"TMPDIR",
       "scratch space (default /tmp): the fold a live export reads into, the payload "
       "an export to s3:// stages, the artifact diff or import --to-bucket downloads"},
  });
}

Result<std::unique_ptr<location::Location>> open_location_from_flags(
    const std::string& url, const LocationFlags& flags, std::function<bool()> interrupted) {
  location::Options o;
  o.interrupted = std::move(interrupted);
  o.endpoint = flags.endpoint;
  o.path_style = flags.path_style;
  return location::open_location(url, o);
}

}  // namespace slip::cli
