// A lease in a KV key: at most one holder at a time across a fleet, for
// jobs such as exports that many nodes are scheduled to run.
//
// The key's value is JSON: {"holder", "acquired", "expires", "expires_ns",
// "exported_cursor"} (times RFC 3339 UTC; exported_cursor null until a
// holder completes). Taking it: create-only wins; a lease that has expired
// or cannot be parsed is taken over with a compare-and-set update on the
// revision that was read; anything else is kConflict. Every later write is
// a compare-and-set on the revision this holder wrote, so a holder that was
// taken over notices instead of overwriting. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "slip/kv.h"
#include "slip/status.h"

namespace slip::lease {

class Lease {
 public:
  // HOLDER names this process for people (e.g. "host:pid"). BUCKET must
  // outlive the Lease.
  static Result<std::unique_ptr<Lease>> acquire(kv::Bucket& bucket, const std::string& key,
                                                std::chrono::milliseconds ttl,
                                                const std::string& holder);

  // kConflict when the lease expired or another holder took it.
  Status check();
  // Records the exported cursor and keeps the lease until it expires, so
  // the fleet's other nodes skip this period. CAS on our revision.
  Status complete(std::uint64_t cursor);
  // Gives the lease up at once (CAS delete), after a failure.
  Status release();

  std::int64_t expires_ns() const { return expires_ns_; }
  std::uint64_t revision() const { return revision_; }

 private:
  Lease(kv::Bucket& bucket, std::string key, std::string holder, std::int64_t acquired_ns,
        std::int64_t expires_ns)
      : bucket_(bucket),
        key_(std::move(key)),
        holder_(std::move(holder)),
        acquired_ns_(acquired_ns),
        expires_ns_(expires_ns) {}
  std::string value(std::optional<std::uint64_t> cursor) const;

  kv::Bucket& bucket_;
  std::string key_;
  std::string holder_;
  std::int64_t acquired_ns_;
  std::int64_t expires_ns_;
  std::uint64_t revision_ = 0;
};

}  // namespace slip::lease
