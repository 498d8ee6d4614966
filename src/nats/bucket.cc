// kv::Bucket over cnats. Writes are JetStream publishes with the KV
// headers (so CAS failures come back as a JetStream error code rather than
// text); reads of many keys go through one ordered consumer.
#include <chrono>
#include <optional>

#include "nats/connection.h"
#include "nats/consumer.h"
#include "nats/nats_status.h"
#include "nats/capabilities.h"

namespace slip::nats {

namespace {

struct Publish {
  std::string_view data;
  const char* operation = nullptr;  // KV-Operation header: "DEL", "PURGE"
  bool rollup = false;              // Nats-Rollup: sub (purge)
  std::optional<std::uint64_t> expect_last;
  std::optional<std::chrono::nanoseconds> ttl;  // Nats-TTL (nats-server 2.11+)
};

// JSMessageTTLDisabledErr: a Nats-TTL header on a stream without allow_msg_ttl.
constexpr int kMessageTtlDisabled = 10166;

class NatsBucket final : public kv::Bucket {
 public:
  NatsBucket(std::shared_ptr<Connection> conn, std::string name, std::string subjects)
      : conn_(std::move(conn)),
        name_(std::move(name)),
        subjects_(std::move(subjects)),
        prefix_(subject_prefix(subjects_)) {}

  const std::string& name() const override { return name_; }

  Result<kv::Entry> entry(std::string_view key) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    natsMsg* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const std::string subject = prefix_ + std::string(key);
    natsStatus s = js_GetLastMsg(&raw, conn_->js.get(), stream_name(name_).c_str(), subject.c_str(),
                                 nullptr, &jerr);
    MsgPtr msg(raw);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
      return Status::not_found("key '" + std::string(key) + "' not found in bucket " + name_);
    }
    if (s != NATS_OK) return to_status(s, "get " + std::string(key), jerr);
    kv::Entry e;
    decode_entry(msg.get(), prefix_, &e);
    e.revision = natsMsg_GetSequence(msg.get());
    e.created_ns = natsMsg_GetTime(msg.get());
    return e;
  }

  Result<kv::Entry> get(std::string_view key) override {
    auto e = entry(key);
    if (e && e->op != kv::Operation::kPut) {
      const std::string how = !e->reason.empty() ? "removed by the server: " + e->reason + ","
                              : e->op == kv::Operation::kDelete ? "deleted"
                                                                : "purged";
      return Status::not_found("key '" + std::string(key) + "' not found in bucket " + name_ +
                               " (" + how + " at revision " + std::to_string(e->revision) + ")");
    }
    return e;
  }

  Result<std::uint64_t> put(std::string_view key, std::string_view value) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    return publish(key, {.data = value}, "put");
  }

  Result<std::uint64_t> create(std::string_view key, std::string_view value) override {
    return create_impl(key, value, std::nullopt);
  }

  Result<std::uint64_t> create_with_ttl(std::string_view key, std::string_view value,
                                        std::chrono::nanoseconds ttl) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    SLIP_RETURN_IF_ERROR(check_ttl(ttl));
    return create_impl(key, value, ttl);
  }

  Result<std::uint64_t> purge_with_ttl(std::string_view key,
                                       std::chrono::nanoseconds ttl) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    SLIP_RETURN_IF_ERROR(check_ttl(ttl));
    return publish(key, {.operation = "PURGE", .rollup = true, .ttl = ttl}, "purge");
  }

  Result<std::uint64_t> create_impl(std::string_view key, std::string_view value,
                                    std::optional<std::chrono::nanoseconds> ttl) {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    // The server may remove the marker the second publish expects (its
    // TTL, or limit markers' TTL, expired) in between: then start again.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto rev = publish(key, {.data = value, .expect_last = 0, .ttl = ttl}, "create");
      if (rev || rev.status().kind() != StatusKind::kConflict) return rev;
      // The key has history: creating over a delete or purge marker is allowed.
      auto latest = entry(key);
      if (!latest && latest.status().kind() == StatusKind::kNotFound) continue;
      if (!latest) return latest.status();
      if (latest->op == kv::Operation::kPut) {
        return Status::conflict("key '" + std::string(key) + "' already exists (revision " +
                                std::to_string(latest->revision) + ")");
      }
      rev = publish(key, {.data = value, .expect_last = latest->revision, .ttl = ttl}, "create");
      if (rev || rev.status().kind() != StatusKind::kConflict) return rev;
    }
    return Status::conflict("key '" + std::string(key) + "' kept changing while being created");
  }

  Result<std::uint64_t> update(std::string_view key, std::string_view value,
                               std::uint64_t expected) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    return cas_result(key, expected,
                      publish(key, {.data = value, .expect_last = expected}, "update"));
  }

  Result<std::uint64_t> del(std::string_view key, std::optional<std::uint64_t> expected) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    auto rev = publish(key, {.operation = "DEL", .expect_last = expected}, "delete");
    return expected ? cas_result(key, *expected, std::move(rev)) : std::move(rev);
  }

  Result<std::uint64_t> purge(std::string_view key) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    return publish(key, {.operation = "PURGE", .rollup = true}, "purge");
  }

  Status scan(const kv::Scope& scope, bool with_values,
              const std::function<bool(const kv::Entry&)>& visit) override {
    ConsumerSpec spec{filter_subject(subjects_, scope), js_DeliverLastPerSubject, 0,
                      !with_values};
    // Sizes the wait for the consumer over a big bucket; without it, the
    // ordinary wait (the scan itself then says what went wrong).
    if (auto st = bucket_status(*conn_, name_)) spec.stream_messages = st->values;
    kv::Entry e;
    return read_until_caught_up(*conn_, name_, spec, [&](natsMsg* msg, jsMsgMetaData* meta) {
      decode_entry(msg, prefix_, &e);
      if (e.op != kv::Operation::kPut || !scope.matches(e.key)) return true;
      e.revision = meta->Sequence.Stream;
      e.created_ns = meta->Timestamp;
      e.delta = meta->NumPending;
      return visit(e);
    });
  }

  Result<std::vector<kv::Entry>> history(std::string_view key) override {
    SLIP_RETURN_IF_ERROR(kv::validate_key(key));
    std::vector<kv::Entry> out;
    ConsumerSpec spec{prefix_ + std::string(key), js_DeliverAll, 0, false};
    Status s = read_until_caught_up(*conn_, name_, spec, [&](natsMsg* msg, jsMsgMetaData* meta) {
      kv::Entry e;
      decode_entry(msg, prefix_, &e);
      e.revision = meta->Sequence.Stream;
      e.created_ns = meta->Timestamp;
      e.delta = meta->NumPending;
      out.push_back(std::move(e));
      return true;
    });
    if (!s) return s;
    if (out.empty())
      return Status::not_found("key '" + std::string(key) + "' has no history in bucket " + name_);
    return out;
  }

  Result<kv::BucketStatus> status() override { return bucket_status(*conn_, name_); }

  Result<std::unique_ptr<kv::Watcher>> watch(const kv::WatchOptions& options) override {
    return make_watcher(conn_, name_, subjects_, options);
  }

 private:
  // A server before 2.11 ignores the Nats-TTL header: the value would never
  // expire. The server keeps TTLs in whole seconds, at least one. On a
  // bucket that keeps history it raises a TTL below the marker TTL to it
  // (nats-server 2.11.2 and later): refused rather than silently longer.
  Status check_ttl(std::chrono::nanoseconds ttl) {
    if (ttl < std::chrono::seconds(1) || ttl % std::chrono::seconds(1) != ttl.zero()) {
      return Status::invalid_argument("a TTL must be a whole number of seconds, at least 1s");
    }
    SLIP_RETURN_IF_ERROR(require_2_11(*conn_, "per-message TTLs"));
    auto st = bucket_status(*conn_, name_);
    if (!st) return st.status();
    if (!st->allow_msg_ttl) return ttl_disabled();
    if (st->history != 1 && st->marker_ttl_ns > ttl.count()) {
      return Status::invalid_argument(
          "bucket " + name_ + " keeps history and has limit markers of " +
          std::to_string(st->marker_ttl_ns / 1'000'000'000) +
          "s: the server would raise a shorter TTL to that; give --ttl of at least that");
    }
    return Status::ok();
  }

  Status ttl_disabled() const {
    return Status::invalid_argument("bucket " + name_ +
                                    " does not allow per-message TTLs (create it with "
                                    "--marker-ttl)");
  }

  Result<std::uint64_t> publish(std::string_view key, const Publish& p, const char* what) {
    const std::string subject = prefix_ + std::string(key);
    natsMsg* raw = nullptr;
    natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, p.data.data(),
                                  static_cast<int>(p.data.size()));
    MsgPtr msg(raw);
    if (s != NATS_OK) return to_status(s, std::string(what) + " " + std::string(key));
    if (p.operation != nullptr) natsMsgHeader_Set(msg.get(), "KV-Operation", p.operation);
    if (p.rollup) natsMsgHeader_Set(msg.get(), "Nats-Rollup", "sub");
    if (p.ttl) {
      const std::string ttl =
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*p.ttl).count()) + "s";
      natsMsgHeader_Set(msg.get(), "Nats-TTL", ttl.c_str());
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (p.expect_last) {
      // 0 means "no message on this subject", which needs its own flag.
      if (*p.expect_last == 0) {
        po.ExpectNoMessage = true;
      } else {
        po.ExpectLastSubjectSeq = *p.expect_last;
      }
    }
    jsPubAck* ack_raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_PublishMsg(&ack_raw, conn_->js.get(), msg.get(), &po, &jerr);
    PubAckPtr ack(ack_raw);
    if (s != NATS_OK && p.ttl && static_cast<int>(jerr) == kMessageTtlDisabled) {
      return ttl_disabled();
    }
    if (s != NATS_OK) return to_status(s, std::string(what) + " " + std::string(key), jerr);
    return ack->Sequence;
  }

  // Turns a CAS rejection into a message that names both revisions.
  Result<std::uint64_t> cas_result(std::string_view key, std::uint64_t expected,
                                   Result<std::uint64_t> rev) {
    if (rev || rev.status().kind() != StatusKind::kConflict) return rev;
    auto latest = entry(key);
    std::string now = latest ? "latest is revision " + std::to_string(latest->revision)
                             : std::string("the key does not exist");
    return Status::conflict("key '" + std::string(key) + "' changed: expected revision " +
                            std::to_string(expected) + ", " + now);
  }

  std::shared_ptr<Connection> conn_;
  std::string name_;
  std::string subjects_;
  std::string prefix_;
};

}  // namespace

std::unique_ptr<kv::Bucket> make_bucket(std::shared_ptr<Connection> conn, std::string name,
                                        std::string subjects) {
  return std::make_unique<NatsBucket>(std::move(conn), std::move(name), std::move(subjects));
}

}  // namespace slip::nats
