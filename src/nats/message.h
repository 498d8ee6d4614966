// Decoding KV messages (stream messages on $KV.<bucket>.<key>) into kv::Entry.
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "slip/kv.h"

namespace slip::nats {

inline std::string stream_name(std::string_view bucket) { return "KV_" + std::string(bucket); }
inline std::string subject_prefix(std::string_view bucket) {
  return "$KV." + std::string(bucket) + ".";
}

// Fills ENTRY from MSG: the key from the subject (after PREFIX), the
// operation from the KV-Operation header or a server marker's
// Nats-Marker-Reason (which wins: see kv::Entry::reason), the value (or, for headers-only
// deliveries, its size from Nats-Msg-Size). Revision, time and delta come
// from the caller, which knows whether MSG came from a consumer or a get.
void decode_entry(natsMsg* msg, std::string_view prefix, kv::Entry* entry);

}  // namespace slip::nats
