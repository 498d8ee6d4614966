// Internal helpers shared by the artifact sources.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "slip/location.h"
#include "slip/version_token.h"

namespace slip::artifact {

// Orders cursors: by width, then bytewise (big-endian revisions compare as
// numbers). -1, 0 or 1.
int compare_cursors(const VersionToken& a, const VersionToken& b);

// Deletes BUCKET's artifacts beyond the KEEP newest that are strictly older
// than the pointer's and were superseded more than GRACE ago, and payloads
// without a manifest older than GRACE. Never the pointer's target.
Status prune(location::Location& location, const std::string& bucket, std::size_t keep,
             std::chrono::seconds grace, std::vector<std::string>* pruned,
             const std::function<void(const std::string&)>& log);

}  // namespace slip::artifact
