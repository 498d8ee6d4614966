// The per-scheme openers behind slip::location::open_location. Each is
// defined in its own file in this directory.
#pragma once

#include <memory>
#include <string>

#include "slip/location.h"

namespace slip::location {

// `rest` is the URL without "file://" (or a bare path), percent-decoded:
// a directory, created on the first write. DISPLAY is what display()
// returns (the URL as given); empty means REST.
Result<std::unique_ptr<Location>> open_file_location(const std::string& rest,
                                                     const Options& options,
                                                     const std::string& display = "");

// `rest` is the URL without "s3://": "bucket/prefix".
Result<std::unique_ptr<Location>> open_s3_location(const std::string& rest, const Options& options);

}  // namespace slip::location
