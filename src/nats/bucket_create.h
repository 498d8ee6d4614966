// Creating a bucket's stream through the raw JetStream API (ADR-8's
// stream configuration for a KV bucket), for every bucket setting:
// cnats 3.4's kvConfig has no compression, metadata, placement,
// republishing, mirror, sources, per-message TTLs or limit markers.
#pragma once

#include "nats/connection.h"
#include "slip/kv.h"
#include "slip/status.h"

namespace slip::nats {

// Creates the stream of the new bucket CONFIG.name. Servers before 2.12
// drop fields they do not know without a word, so the configuration the
// server echoes is checked for every setting asked for; one it dropped
// (compression or metadata on 2.9, say) deletes the stream just made and
// is kInvalidArgument naming the setting and the server version it needs.
Status create_bucket_stream(Connection& conn, const kv::BucketConfig& config);

// The name of the stream behind bucket NAME, accepting either spelling
// ("routes" or "KV_routes"), as natscli's --mirror and --source do.
std::string bucket_stream(const std::string& name);

}  // namespace slip::nats
