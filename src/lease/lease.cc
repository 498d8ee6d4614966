#include "slip/lease.h"

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace slip::lease {

namespace {

struct Held {
  std::string holder;
  std::int64_t expires_ns = 0;
};

std::optional<Held> parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto h = j.find("holder");
  auto e = j.find("expires_ns");
  if (h == j.end() || e == j.end() || !h->is_string() || !e->is_number_integer())
    return std::nullopt;
  return Held{h->get<std::string>(), e->get<std::int64_t>()};
}

}  // namespace

std::string Lease::value(std::optional<std::uint64_t> cursor) const {
  nlohmann::json j;
  j["holder"] = holder_;
  j["acquired"] = format_rfc3339(acquired_ns_);
  j["expires"] = format_rfc3339(expires_ns_);
  j["expires_ns"] = expires_ns_;
  j["exported_cursor"] = cursor ? nlohmann::json(*cursor) : nlohmann::json(nullptr);
  return j.dump();
}

Result<std::unique_ptr<Lease>> Lease::acquire(kv::Bucket& bucket, const std::string& key,
                                              std::chrono::milliseconds ttl,
                                              const std::string& holder) {
  const std::int64_t now = now_unix_ns();
  std::unique_ptr<Lease> lease(
      new Lease(bucket, key, holder, now,
                now + std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count()));
  const std::string v = lease->value(std::nullopt);
  auto created = bucket.create(key, v);
  if (created) {
    lease->revision_ = *created;
    return lease;
  }
  if (created.status().kind() != StatusKind::kConflict) return created.status();
  // Someone has (or had) it: take it over only when it is over.
  auto current = bucket.entry(key);
  if (!current) {
    if (current.status().kind() == StatusKind::kNotFound)
      return Status::conflict("lease " + key + " changed while being taken; try again");
    return current.status();
  }
  if (current->op == kv::Operation::kPut) {
    auto held = parse(current->value);
    if (held && held->expires_ns > now) {
      return Status::conflict("lease " + key + " is held by " + held->holder + " until " +
                              format_rfc3339(held->expires_ns));
    }
  }
  auto updated = bucket.update(key, v, current->revision);
  if (!updated) {
    if (updated.status().kind() == StatusKind::kConflict)
      return Status::conflict("lease " + key + " was taken by another node at the same time");
    return updated.status();
  }
  lease->revision_ = *updated;
  return lease;
}

Status Lease::check() {
  auto current = bucket_.entry(key_);
  if (!current) {
    if (current.status().kind() == StatusKind::kNotFound)
      return Status::conflict("lost the lease " + key_ + ": it was removed");
    return current.status();
  }
  if (current->revision != revision_) {
    auto held = current->op == kv::Operation::kPut ? parse(current->value) : std::nullopt;
    return Status::conflict("lost the lease " + key_ + ": taken over by " +
                            (held ? held->holder : std::string("another node")));
  }
  if (now_unix_ns() >= expires_ns_)
    return Status::conflict("lost the lease " + key_ + ": it expired at " +
                            format_rfc3339(expires_ns_) + " (raise --lease-ttl)");
  return Status::ok();
}

Status Lease::complete(std::uint64_t cursor) {
  auto updated = bucket_.update(key_, value(cursor), revision_);
  if (!updated) {
    if (updated.status().kind() == StatusKind::kConflict)
      return Status::conflict("lost the lease " + key_ + " before recording the export");
    return updated.status();
  }
  revision_ = *updated;
  return Status::ok();
}

Status Lease::release() {
  auto r = bucket_.del(key_, revision_);
  if (!r && r.status().kind() == StatusKind::kConflict)
    return Status::conflict("lease " + key_ + " was taken over; not released");
  return r.status();
}

}  // namespace slip::lease
