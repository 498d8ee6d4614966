#include <unordered_map>

#include "artifact/codec.h"
#include "slip/artifact.h"
#include "slip/kv.h"
#include "slip/snapshot_reader.h"

namespace slip::artifact {

namespace {

// 128 bits of SHA-256: what "already equal" compares, so the bucket's
// values need not be held.
std::string fingerprint(std::string_view value) { return Sha256::hex_of(value).substr(0, 32); }

}  // namespace

Status restore_to_bucket(kv::Bucket& bucket, const std::string& snapshot,
                         const std::function<bool()>& stop_requested, const Progress& progress,
                         RestoreReport* report) {
  RestoreReport local;
  RestoreReport& r = report ? *report : local;
  std::unordered_map<std::string, std::string> current;
  SLIP_RETURN_IF_ERROR(bucket.scan(kv::Scope{}, /*with_values=*/true, [&](const kv::Entry& e) {
    current.emplace(e.key, fingerprint(e.value));
    return true;
  }));
  auto reader = snapshot::Reader::open(snapshot);
  if (!reader) return reader.status();
  std::uint64_t total = 0;
  {
    auto counter = snapshot::Reader::open(snapshot);
    if (!counter) return counter.status();
    snapshot::Record rec;
    while ((*counter)->next(&rec)) total += rec.type == snapshot::RecordType::kPut;
  }
  r.entries = total;
  snapshot::Record rec;
  std::uint64_t done = 0;
  while ((*reader)->next(&rec)) {
    if (rec.type != snapshot::RecordType::kPut) continue;
    if (stop_requested && stop_requested()) return Status::interrupted("interrupted");
    auto it = current.find(std::string(rec.key));
    if (it != current.end() && it->second == fingerprint(rec.value)) {
      ++r.unchanged;
    } else {
      auto put = bucket.put(rec.key, rec.value);
      if (!put) return put.status().with_context("put " + std::string(rec.key));
      ++r.written;
    }
    if (progress) progress(++done, total);
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  if ((*reader)->problem().damage != snapshot::Damage::kNone)
    return Status::corruption(snapshot + ": " + (*reader)->problem().reason);
  return Status::ok();
}

}  // namespace slip::artifact
