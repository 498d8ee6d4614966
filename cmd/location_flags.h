// The flags of every command that reads or writes a Location
// (slip-artifact(5)): --endpoint and --path-style, for S3-compatible
// servers. Credentials come only from the environment (AWS_*), never from
// flags, so they never appear in a process list.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "command.h"
#include "slip/location.h"

namespace slip::cli {

struct LocationFlags {
  std::string endpoint;
  bool path_style = false;
};

void add_location_flags(CLI::App* app, LocationFlags& flags);
// The ENVIRONMENT paragraph for the long help of a command with these
// flags: credentials, region, endpoint, conditional writes, TMPDIR.
std::string location_environment_help();

// Opens URL (file:///dir/prefix, a bare path, s3://bucket/prefix).
// INTERRUPTED (if given) ends S3 requests in flight (location::Options).
Result<std::unique_ptr<location::Location>> open_location_from_flags(
    const std::string& url, const LocationFlags& flags,
    std::function<bool()> interrupted = nullptr);

}  // namespace slip::cli
