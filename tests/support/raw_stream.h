// An independent reader (and a few raw writers) of a KV bucket's stream,
// for tests that must not take the truth from slip's own library: plain
// cnats requests to the JetStream API ($JS.API.STREAM.INFO / MSG.GET /
// CREATE / PURGE / MSG.DELETE), with the base64 payloads and the NATS/1.0
// header block decoded here.
//
// The truth: a key is live iff the last message of its subject has no
// `KV-Operation: DEL|PURGE` header and no `Nats-Marker-Reason` header; its
// value is that message's data.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace slip::test {

struct RawMessage {
  std::uint64_t seq = 0;
  std::string subject;
  std::map<std::string, std::string> headers;  // names as sent; last value wins
  std::string data;
  // A header by name, case-insensitively; empty optional when absent.
  std::optional<std::string> header(const std::string& name) const;
  // Whether this last message of a subject makes its key gone.
  bool tombstone() const;
};

// The stream of a KV bucket as an operator could create it by hand: the
// configuration `kv add` gives a bucket, plus the 2.11+ settings.
struct RawStreamConfig {
  int history = 1;                          // max_msgs_per_subject
  std::chrono::milliseconds max_age{0};     // 0: never
  bool allow_msg_ttl = false;               // 2.11+: the Nats-TTL header
  std::chrono::milliseconds marker_ttl{0};  // 2.11+: subject_delete_marker_ttl (0: none)
  bool deny_delete = true;                  // KV streams deny the message-delete API
};

// "NATS/1.0[ status]\r\nName: value\r\n...\r\n\r\n" -> name/value pairs.
std::map<std::string, std::string> parse_header_block(const std::string& block);

class RawStream {
 public:
  RawStream(const std::string& url, const std::string& bucket);
  ~RawStream();
  RawStream(const RawStream&) = delete;
  RawStream& operator=(const RawStream&) = delete;

  const std::string& bucket() const { return bucket_; }
  std::string stream() const { return "KV_" + bucket_; }
  std::string subject(const std::string& key) const { return "$KV." + bucket_ + "." + key; }

  // A request to the JetStream API; the reply parsed (fails the test when
  // there is no reply or it is not JSON).
  nlohmann::json api(const std::string& subject, const nlohmann::json& body);

  // $JS.API.STREAM.CREATE.KV_<bucket>; fails the test on an error reply.
  void create(const RawStreamConfig& config);
  // Publishes VALUE to KEY's subject, with `Nats-TTL: TTL` when TTL is not
  // empty ("1s", "never"); returns the sequence of the ack.
  std::uint64_t publish(const std::string& key, const std::string& value,
                        const std::string& ttl = "");
  // Publishes VALUE to KEY's subject with HEADERS as given; the ack's sequence.
  std::uint64_t publish_with_headers(const std::string& key, const std::string& value,
                                     const std::map<std::string, std::string>& headers);
  // $JS.API.STREAM.PURGE with {"filter": KEY's subject}; the reply.
  nlohmann::json purge_subject(const std::string& key);
  // $JS.API.STREAM.MSG.DELETE with {"seq": SEQ}; the reply.
  nlohmann::json delete_message(std::uint64_t seq);

  // The stream's state (STREAM.INFO, without subjects).
  nlohmann::json state();
  // The subjects under $KV.<bucket>. that hold at least one message.
  std::vector<std::string> subjects();
  // The last message of KEY's subject, or none when the subject is empty.
  std::optional<RawMessage> last(const std::string& key);
  // The live keys and their values, by the rule above.
  std::map<std::string, std::string> truth();

 private:
  natsConnection* nc_ = nullptr;
  std::string bucket_;
};

}  // namespace slip::test
