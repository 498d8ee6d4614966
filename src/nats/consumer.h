// Ordered push consumers: the one way slip reads a bucket's stream, for
// scans, histories and watches alike.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "nats/connection.h"
#include "nats/handles.h"
#include "nats/message.h"

namespace slip::nats {

struct ConsumerSpec {
  std::string filter;                       // subject filter
  jsDeliverPolicy deliver = js_DeliverAll;  // All, LastPerSubject, New, ByStartSequence
  std::uint64_t start_sequence = 0;         // for ByStartSequence
  bool headers_only = false;
  // Whether start() asks the server how much the new consumer has pending
  // (initial_pending()). nats-server 2.9 answers that for a
  // DeliverLastPerSubject consumer by visiting the last message of every
  // subject: about a second of server CPU for a million keys, while the
  // same server is delivering them. A caller that already knows there is
  // something to deliver skips the question.
  bool count_pending = true;
  // The stream's message count when known: sizes the wait for the server
  // to create the consumer (consumer_context).
  std::uint64_t stream_messages = 0;
};

// An ordered, ack-less consumer on a bucket's stream with a synchronous
// subscription. initial_pending() is what the server had for it at start,
// or nullopt when the spec did not ask (count_pending false).
class OrderedConsumer {
 public:
  static Result<OrderedConsumer> start(Connection& conn, const std::string& bucket,
                                       const ConsumerSpec& spec);

  // The next message and its JetStream metadata; kUnavailable with
  // "timeout" when none arrived in TIMEOUT (see is_timeout()).
  Status next(std::chrono::milliseconds timeout, MsgPtr* msg, MetaPtr* meta);
  static bool is_timeout(const Status& s) {
    return s.kind() == StatusKind::kUnavailable && s.message() == "timeout";
  }

  std::optional<std::uint64_t> initial_pending() const { return initial_pending_; }

  // Messages the server still has for this consumer plus those queued in
  // the client; nullopt when the server cannot be asked right now.
  std::optional<std::uint64_t> server_pending();

 private:
  Subscription sub_;  // dropped safely (see Subscription)
  std::optional<std::uint64_t> initial_pending_;
};

// Reads SPEC's consumer until it has nothing pending (a consistent
// snapshot), calling VISIT per message; VISIT returns false to stop.
Status read_until_caught_up(Connection& conn, const std::string& bucket, const ConsumerSpec& spec,
                            const std::function<bool(natsMsg*, jsMsgMetaData*)>& visit);

}  // namespace slip::nats
