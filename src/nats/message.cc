#include "nats/message.h"

#include "core/text.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace slip::nats {

void decode_entry(natsMsg* msg, std::string_view prefix, kv::Entry* entry) {
  std::string_view subject = natsMsg_GetSubject(msg);
  entry->key.assign(subject.substr(std::min(prefix.size(), subject.size())));
  entry->op = kv::Operation::kPut;
  entry->reason.clear();
  const char* op = nullptr;
  if (natsMsgHeader_Get(msg, "KV-Operation", &op) == NATS_OK && op != nullptr) {
    if (std::strcmp(op, "DEL") == 0) entry->op = kv::Operation::kDelete;
    if (std::strcmp(op, "PURGE") == 0) entry->op = kv::Operation::kPurge;
  }
  // A marker the server wrote (ADR-43: limit markers, 2.11+) carries no
  // KV-Operation, only its reason; whatever else it carries, it is a
  // tombstone. MaxAge and Purge remove the key's history as a purge does;
  // Remove (and any reason not known yet) is a delete.
  const char* reason = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Marker-Reason", &reason) == NATS_OK && reason != nullptr) {
    entry->reason = reason;
    // The reason goes into JSON and terminal lines: anything a publisher
    // put there that is not short UTF-8 text is shown as Unknown.
    const bool control = std::any_of(entry->reason.begin(), entry->reason.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (entry->reason.size() > 64 || control || !is_valid_utf8(entry->reason))
      entry->reason = "Unknown";
    const bool purge = entry->reason == "MaxAge" || entry->reason == "Purge";
    entry->op = purge ? kv::Operation::kPurge : kv::Operation::kDelete;
  }
  const int len = natsMsg_GetDataLength(msg);
  entry->value.assign(natsMsg_GetData(msg) != nullptr ? natsMsg_GetData(msg) : "",
                      static_cast<std::size_t>(len));
  entry->value_size = static_cast<std::uint64_t>(len);
  const char* size = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Msg-Size", &size) == NATS_OK && size != nullptr) {
    entry->value_size = std::strtoull(size, nullptr, 10);
  }
}

}  // namespace slip::nats
