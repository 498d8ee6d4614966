#include "nats/consumer.h"

#include <algorithm>

#include "nats/nats_status.h"

namespace slip::nats {

Result<jsCtx*> consumer_context(Connection& conn, std::uint64_t messages) {
  constexpr std::int64_t kBaseMs = 10'000;
  constexpr std::int64_t kPerMillionMs = 10'000;
  const std::int64_t want = std::max<std::int64_t>(
      conn.wait_ms, kBaseMs + static_cast<std::int64_t>(messages / 1'000'000) * kPerMillionMs);
  if (want <= conn.wait_ms) return conn.js.get();
  for (const auto& [wait, js] : conn.consumer_js) {
    if (wait >= want) return js.get();
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = want;
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_JetStream(&js, conn.nc.get(), &jo);
  JsCtxPtr owned(js);
  if (s != NATS_OK) return to_status(s, "JetStream context");
  conn.consumer_js.emplace_back(want, std::move(owned));
  return js;
}

Result<OrderedConsumer> OrderedConsumer::start(Connection& conn, const std::string& bucket,
                                               const ConsumerSpec& spec) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  const std::string stream = stream_name(bucket);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = spec.deliver;
  so.Config.OptStartSeq = spec.start_sequence;
  so.Config.HeadersOnly = spec.headers_only;
  auto js = consumer_context(conn, spec.stream_messages);
  if (!js) return js.status();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsSubscription* raw = nullptr;
  natsStatus s = js_SubscribeSync(&raw, *js, spec.filter.c_str(), nullptr, &so, &jerr);
  OrderedConsumer consumer;
  consumer.sub_ = Subscription(conn.nc.get(), raw);
  if (s != NATS_OK) return to_status(s, "subscribe to bucket " + bucket, jerr);
  natsSubscription_SetPendingLimits(raw, -1, -1);
  if (!spec.count_pending) return consumer;
  // Without a message to count from, the consumer's own view tells
  // whether there is anything to wait for at all.
  jsConsumerInfo* ci_raw = nullptr;
  s = natsSubscription_GetConsumerInfo(&ci_raw, raw, nullptr, &jerr);
  ConsumerInfoPtr ci(ci_raw);
  // The consumer exists; only the count is missing. A busy server (one
  // still creating consumers over millions of keys) can fail this request:
  // carry on without the count rather than fail the read.
  if (s != NATS_OK) return consumer;
  consumer.initial_pending_ = ci->NumPending + ci->Delivered.Consumer;
  return consumer;
}

Status OrderedConsumer::next(std::chrono::milliseconds timeout, MsgPtr* msg, MetaPtr* meta) {
  natsMsg* raw = nullptr;
  natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), timeout.count());
  msg->reset(raw);
  if (s == NATS_TIMEOUT) return Status::unavailable("timeout");
  if (s != NATS_OK) return to_status(s, "receive");
  jsMsgMetaData* m = nullptr;
  s = natsMsg_GetMetaData(&m, raw);
  meta->reset(m);
  if (s != NATS_OK) return to_status(s, "message metadata");
  return Status::ok();
}

std::optional<std::uint64_t> OrderedConsumer::server_pending() {
  jsConsumerInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (natsSubscription_GetConsumerInfo(&raw, sub_.get(), nullptr, &jerr) != NATS_OK)
    return std::nullopt;
  ConsumerInfoPtr ci(raw);
  uint64_t queued = 0;
  natsSubscription_QueuedMsgs(sub_.get(), &queued);
  return ci->NumPending + queued;
}

Status read_until_caught_up(Connection& conn, const std::string& bucket, const ConsumerSpec& spec,
                            const std::function<bool(natsMsg*, jsMsgMetaData*)>& visit) {
  auto consumer = OrderedConsumer::start(conn, bucket, spec);
  if (!consumer) return consumer.status();
  if (consumer->initial_pending() == 0) return Status::ok();
  // Done at the head as of the start, or, when the filter hides the head,
  // once the consumer reports nothing left. The pending count in message
  // metadata is not trusted for this (see watcher.cc).
  auto status = bucket_status(conn, bucket);
  if (!status) return status.status();
  const std::uint64_t head = status->last_sequence;
  const auto quiet_limit = std::chrono::milliseconds(conn.wait_ms);
  auto last_activity = std::chrono::steady_clock::now();
  for (;;) {
    MsgPtr msg;
    MetaPtr meta;
    Status s = consumer->next(std::chrono::milliseconds(100), &msg, &meta);
    if (OrderedConsumer::is_timeout(s)) {
      auto left = consumer->server_pending();
      if (left && *left == 0) return Status::ok();
      if (std::chrono::steady_clock::now() - last_activity > quiet_limit) {
        return Status::unavailable("reading bucket " + bucket + ": no message within " +
                                   std::to_string(quiet_limit.count()) + " ms");
      }
      continue;
    }
    SLIP_RETURN_IF_ERROR(s);
    last_activity = std::chrono::steady_clock::now();
    if (!visit(msg.get(), meta.get())) return Status::ok();
    if (meta->Sequence.Stream >= head) return Status::ok();
  }
}

}  // namespace slip::nats
